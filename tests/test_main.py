"""siamese_lessons.__main__: the command line's defaults, and its one-line errors."""

from __future__ import annotations

import copy

import pytest

from siamese_lessons.__main__ import main
from siamese_lessons.scale import ScaleConfig


class _Stop(Exception):
    pass


def test_train_defaults_are_scale_configs(monkeypatch):
    # The command line states no default of its own: a bare `train` builds ScaleConfig(steps=...).
    import siamese_lessons.scale as scale

    seen = {}

    def fake_train(source, out_dir, config, **kwargs):
        seen.update(config=config, **kwargs)
        raise _Stop

    monkeypatch.setattr(scale, "train", fake_train)
    with pytest.raises(_Stop):
        main(["train", "list.txt", "--out-dir", "x", "--steps", "7"])
    assert seen["config"] == ScaleConfig(steps=7)
    assert seen["restart"] is False and seen["max_seconds"] is None and seen["export_tflite"] is False
    # and a changed default reaches the command line
    margin = copy.copy(ScaleConfig.__dataclass_fields__["margin"])
    margin.default = 0.7
    monkeypatch.setattr(ScaleConfig, "__dataclass_fields__", {**ScaleConfig.__dataclass_fields__,
                                                              "margin": margin})
    from siamese_lessons.__main__ import build_parser

    args = build_parser().parse_args(["train", "list.txt", "--out-dir", "x", "--steps", "7"])
    assert args.margin == 0.7


@pytest.mark.parametrize("args, option", [
    (["--seed", "-5"], "--seed"),
    (["--max-minutes", "-1"], "--max-minutes"),
    (["--learning-rate", "inf"], "--learning-rate"),
    (["--steps", "0"], "--steps"),
    (["--margin", "nan"], "--margin"),
])
def test_bad_numbers_are_one_line_errors_naming_the_option(args, option, capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "list.txt", "--out-dir", "x", "--steps", "3", *args])
    err = capsys.readouterr().err
    assert info.value.code == 2 and f"argument {option}" in err and "Traceback" not in err


def test_train_help_and_bad_input_errors(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0 and "TF_CONFIG" in out and "--checkpoint-every" in out
    # A batch that is not P x k (6 images, k = 4) is refused before anything is read or trained.
    code = main(["train", str(tmp_path / "list.txt"), "--out-dir", str(tmp_path / "r"), "--steps", "3",
                 "--batch-size", "6", "--k", "4"])
    err = capsys.readouterr().err
    assert code == 2 and "batch_size = P x k" in err and len(err.strip().splitlines()) == 1
    # A list that does not exist is named.
    code = main(["train", str(tmp_path / "none.txt"), "--out-dir", str(tmp_path / "r"), "--steps", "3",
                 "--quiet", "--no-tensorboard"])
    err = capsys.readouterr().err
    assert code == 2 and "none.txt" in err and "Traceback" not in err


def test_cli_rejects_an_unknown_miner(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "list.txt", "--out-dir", "x", "--steps", "1", "--mining", "hardest"])
    assert info.value.code == 2 and "--mining" in capsys.readouterr().err


def test_an_unwritable_out_dir_is_a_one_line_error(tmp_path, capsys):
    listing = tmp_path / "clean.txt"
    listing.write_text("a/1.jpg 0\na/2.jpg 0\nb/1.jpg 1\nb/2.jpg 1\n")
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    code = main(["make-pairs", str(listing), "--positives", "1", "--negatives", "1", "--out-dir",
                 str(blocker / "pairs"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and str(blocker) in err and len(err.strip().splitlines()) == 1


def test_make_pairs_runs_without_loading_tensorflow_or_keras(tmp_path):
    # Pair generation is NumPy: a fresh interpreter running the command must not pay TensorFlow's
    # import (about 7 s of CPU on the course's CI machine); building the parser once did, through
    # scale -> augmentation -> keras.
    import subprocess
    import sys

    (tmp_path / "clean.txt").write_text("".join(f"p{i % 4}/{i}.jpg {i % 4}\n" for i in range(24)))
    script = ("import sys; from siamese_lessons.__main__ import main; "
              f"code = main(['make-pairs', {str(tmp_path / 'clean.txt')!r}, '--positives', '6', "
              f"'--negatives', '6', '--out-dir', {str(tmp_path / 'out')!r}, '--quiet']); "
              "print('loaded:', sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)); "
              "sys.exit(code)")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "loaded: []" in run.stdout, run.stdout
    assert len((tmp_path / "out" / "positive_pairs_path.txt").read_text().splitlines()) == 6
