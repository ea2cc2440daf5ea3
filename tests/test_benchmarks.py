"""Smoke tests: every benchmark runs end to end at a tiny size and writes its JSON."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.data
def test_data_memory_smoke(lfw_data_home, tmp_path):
    out = tmp_path / "data_memory.json"
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks/data_memory.py"), "--resize", "0.1",
                          "--subsets", "test", "--out", str(out)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert "ratio" in run.stdout and "package" in run.stdout
    result = json.loads(out.read_text())
    for key in ("seed_peak_rss_mb", "package_peak_rss_mb", "ratio", "hardware", "command"):
        assert key in result
    assert result["image_shape"] == [25, 25]
    # At 25x25 the arrays are tiny, but the seed still holds more than the package.
    assert result["seed_held_mb"] > result["package_held_mb"]
    assert result["ratio"] == pytest.approx(result["package_peak_rss_mb"] / result["seed_peak_rss_mb"],
                                            abs=1e-3)


def test_committed_data_memory_result_meets_the_target():
    result = json.loads((ROOT / "benchmarks/results/data_memory.json").read_text())
    assert result["image_shape"] == [250, 250] and result["subsets"] == ["train", "test"]
    assert result["ratio"] <= 0.25


def _run_benchmark(script, *args, out):
    """Run ``benchmarks/<script>``'s ``main(argv)`` at the quick profile in this process and return
    the JSON it wrote.

    In this process, not a fresh one: this test process has TensorFlow loaded already, and a
    subprocess would import it again (about 7 s of CPU each). The workers a benchmark starts
    itself (:func:`~siamese_lessons.results.run_worker`) are still fresh processes, and
    ``test_data_memory_smoke`` runs a script as the command line does.
    """
    _main(script, *args, "--out", out)
    return json.loads(Path(out).read_text())


def _main(script, *args):
    """``benchmarks/<script>``'s ``main`` called with ``args``, at the quick profile."""
    path = ROOT / "benchmarks" / script
    spec = importlib.util.spec_from_file_location(f"benchmark_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SIAMESE_LESSONS_PROFILE", "quick")
        return module.main([str(a) for a in args])


@pytest.mark.data
def test_lfw_pairs_smoke(lfw_data_home, tmp_path):
    # At chapter 2's quick sizes (62x62, the rung 31x31), whose decoded images the chapter caches.
    result = _run_benchmark("lfw_pairs.py", "--epochs", "1", "--steps", "seed", "more pairs",
                            "--sampled-pairs", "200", out=tmp_path / "l.json")
    assert set(result["steps"]) == {"seed", "more pairs"}
    seed = result["steps"]["seed"]
    assert seed["image_side"] == 62 and result["steps"]["more pairs"]["image_side"] == 31
    for key in ("test_accuracy", "test_auc", "best_test_accuracy_over_epochs", "history", "train_seconds"):
        assert key in seed
    # the history is stored to 4 decimals, the best epoch's accuracy as measured (float32)
    assert seed["best_test_accuracy_over_epochs"] >= min(seed["history"]["test_accuracy"]) - 5e-5
    assert "hardware" in result and result["profile"] == "reduced" and result["base_profile"] == "quick"
    assert result["overrides"] == {"epochs": 1, "sampled_pairs": 200}
    # Counted from the split the run used (the quick profile caps training at 512 official pairs).
    assert (result["train_pairs"], result["validation_pairs"], result["test_pairs"]) == (512, 400, 1000)


@pytest.mark.data
def test_omniglot_one_shot_smoke(omniglot_home, tmp_path):
    result = _run_benchmark("omniglot_one_shot.py", "--profile", "quick", "--pairs", "64", "--epochs", "1",
                            "--embedding-epochs", "1", "--embedding-filters", "8", "8",
                            out=tmp_path / "o.json")
    methods = result["methods"]
    assert methods["chance"]["one_shot_accuracy"] == 0.05
    assert 0 <= methods["Siamese, trained"]["one_shot_accuracy"] <= 1
    assert result["trials"] == 400 and "242 characters" in result["training_set"]
    # Overridden sizes make the record "reduced", never "quick" or "full".
    assert result["profile"] == "reduced" and result["base_profile"] == "quick"
    assert result["overrides"] == {"pairs": 64, "epochs": 1, "embedding_epochs": 1,
                                   "embedding_filters": [8, 8]}
    assert result["embedding"]["filters"] == [8, 8]
    assert {(m["model"], m["versus"]) for m in result["margins"]} == {
        ("Siamese, trained", "Siamese, untrained twin"), ("Siamese, trained", "1-NN on pixels"),
        ("embedding, trained", "embedding, untrained twin"), ("embedding, trained", "1-NN on pixels")}


@pytest.mark.data
def test_lfw_sweep_smoke(lfw_data_home, tmp_path):
    result = _run_benchmark("lfw_sweep.py", "--profile", "quick", "--epochs", "1", "--pairs", "200",
                            "--seeds", "0", out=tmp_path / "s.json")
    assert result["image_side"] == 31 and result["seeds"] == [0]  # int(0.25 * 250) // 2: the rung halves
    assert result["summary"][0]["param"] == "base" and result["validation_pairs"] == 400
    assert len(result["runs"]) + len(result["not_run"]) == 4  # 1 base + 3 varied settings, one seed
    assert result["profile"] == "reduced"
    assert result["overrides"] == {"epochs": 1, "sampled_pairs": 200, "seeds": [0]}


@pytest.mark.data
def test_contrastive_augmentation_smoke(lfw_data_home, tmp_path):
    result = _run_benchmark("contrastive_augmentation.py", "--profile", "quick", "--pairs", "64",
                            "--epochs", "1", "--seeds", "0", out=tmp_path / "a.json")
    assert set(result["candidates"]) == {"none", "flips", "flips, rotations, zooms, shifts"}
    assert result["candidates"]["none"]["augmentation"] is None
    assert result["candidates"]["flips"]["augmentation"]["flip"] is True
    for candidate in result["candidates"].values():
        assert len(candidate["validation_auc"]) == 1 and 0 <= candidate["validation_auc"][0] <= 1
    assert result["validation_pairs"] == 1000 and result["best"] in result["candidates"]
    assert result["profile"] == "reduced" and result["overrides"] == {"pairs": 64, "epochs": 1}


def test_summarize_lists_every_record():
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks/summarize.py")], capture_output=True,
                         text=True, check=True)
    for path in (ROOT / "benchmarks/results").glob("*.json"):
        assert f"`results/{path.name}`" in run.stdout
    assert "ratio" in run.stdout


@pytest.mark.data
def test_lfw_view2_smoke_and_exported_arrays_give_the_same_result(lfw_data_home, tmp_path):
    # At chapters 6 and 8's quick face size (31x23), whose decoded images those chapters cache.
    direct = _run_benchmark("lfw_view2.py", "--resize", "0.25", "--folds", "2", "--models", "lbp", "triplet",
                            "--budget", "steps_per_epoch=3", "pk=4,2", "--fresh", out=tmp_path / "v.json")
    assert direct["folds"] == 2 and direct["image_shape"] == [31, 23]
    for key in ("accuracy_mean", "accuracy_std", "auc", "eer", "tar_at_far_1e-3", "fold_accuracies"):
        assert key in direct["models"]["triplet"]
    assert direct["models"]["triplet"]["budget"]["pk"] == [4, 2]
    assert direct["profile"] == "reduced" and direct["overrides"] == {
        "image_shape": [31, 23], "folds": 2, "budget.pk": [4, 2], "budget.steps_per_epoch": 3}
    arrays = tmp_path / "lfw.npz"
    assert _main("lfw_view2.py", "--resize", "0.25", "--export-arrays", arrays) == {}
    again = _run_benchmark("lfw_view2.py", "--arrays", str(arrays), "--folds", "2", "--models", "lbp",
                           "--fresh", out=tmp_path / "w.json")
    assert again["models"]["lbp"]["fold_accuracies"] == direct["models"]["lbp"]["fold_accuracies"]


def test_committed_lfw_view2_record_has_every_model_and_field():
    record = json.loads((ROOT / "benchmarks/results/lfw_view2.json").read_text())
    assert {"profile", "hardware", "command"} <= set(record)
    # A record is "full" only when no size was overridden (this one ran at 62x47, not 125x94).
    assert record["profile"] == "reduced" and record["overrides"] == {"image_shape": [62, 47]}
    assert set(record["models"]) == {"eigenfaces", "lbp", "pair", "contrastive", "triplet"}
    for m in record["models"].values():
        assert len(m["fold_accuracies"]) == 10
        assert m["accuracy_mean"] == pytest.approx(sum(m["fold_accuracies"]) / 10)
        for key in ("accuracy_std", "auc", "eer", "tar_at_far_1e-3"):
            assert 0 <= m[key] <= 1


@pytest.mark.data
def test_lfw_verification_smoke(lfw_data_home, tmp_path):
    result = _run_benchmark("lfw_verification.py", "--budget-minutes", "0.02", "--resize", "0.2",
                            out=tmp_path / "v.json")
    assert set(result["methods"]) == {"seed baseline", "best pair model", "best embedding"}
    for m in result["methods"].values():
        for key in ("devtest_accuracy", "auc", "train_seconds", "peak_rss_mb"):
            assert key in m
        assert 0 <= m["devtest_accuracy"] <= 1 and m["peak_rss_mb"] > 100
    shapes = {name: m["image_shape"] for name, m in result["methods"].items()}
    # The seed shrunk by --resize; the course's models at the quick chapters' sizes.
    assert shapes == {"seed baseline": [50, 50], "best pair model": [31, 31], "best embedding": [31, 23]}
    assert result["budget_minutes"] == 0.02 and "margin_over_seed" in result and "hardware" in result


def test_pairgen_smoke(tmp_path):
    result = _run_benchmark("pairgen.py", "--lines", "5000", "--identities", "200", "--positives", "800",
                            "--negatives", "800", out=tmp_path / "p.json")
    assert result["pairs"] == 1600 and result["baseline"]["pairs"] == 1600
    assert result["identities_used"] > 10 * result["baseline"]["identities_used"]
    for key in ("seconds", "peak_rss_mb", "identities_used"):
        assert key in result and key in result["baseline"]


def test_gpu_throughput_smoke(tmp_path):
    result = _run_benchmark("gpu_throughput.py", "--scale", "0.1", "--batches", "4", "--steps", "1",
                            "--precisions", "float32", out=tmp_path / "g.json")
    assert [r["model"] for r in result["runs"]] == ["seed pair", "embedding"]
    assert all(r["images_per_s"] > 0 and r["finite"] for r in result["runs"])
    assert result["runs"][0]["image_shape"] == [25, 25] and "hardware" in result


@pytest.mark.data
def test_input_pipeline_smoke(lfw_data_home, tmp_path):
    result = _run_benchmark("input_pipeline.py", "--batches", "3", "--identities", "150",
                            "--batch-pairs", "8", "--image-size", "32", "32", out=tmp_path / "ip.json")
    assert result["images_per_s"] > 0 and result["baseline_images_per_s"] > 0
    assert [m["images"] for m in result["methods"]] == [48, 48, 48]  # 3 batches x 16 images each way
    assert result["shard_identities"] > 10 and result["image_size"] == [32, 32] and "hardware" in result


def test_summarize_names_the_overrides_of_a_reduced_record():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from summarize import profile_cell
    finally:
        sys.path.pop(0)
    assert profile_cell({"profile": "full", "overrides": {}}) == "full"
    assert profile_cell({"profile": "reduced", "overrides": {"epochs": 3, "width": 0.5}}) == \
        "reduced (epochs=3, width=0.5)"
    assert profile_cell({}) == "-"
