"""Chapter 3's one-at-a-time sweep of the LFW seed model, at a chosen size, over several seeds.

Same code as the chapter: :func:`siamese_lessons.experiments.lfw_view1`,
:func:`~siamese_lessons.experiments.lfw_sweep_run` and
:func:`siamese_lessons.sweeps.run_sweep`. Results are appended to a CSV as they
finish (``--csv``), so an interrupted run resumes; the JSON holds every run and
the mean +- std summary per setting.

Usage::

    python benchmarks/lfw_sweep.py --profile full                       # the seed's grid at 250x250
    python benchmarks/lfw_sweep.py --profile full --resize 0.25 --epochs 5 --seeds 0 1    # CPU-sized
"""

from __future__ import annotations

import argparse
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> dict:
    from siamese_lessons import get_profile
    from siamese_lessons.experiments import lfw_sweep_run, lfw_view1
    from siamese_lessons.results import command_line, hardware, profile_label, write_result
    from siamese_lessons.sweeps import one_at_a_time_configs, run_sweep, summarize_sweep

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default=None)
    parser.add_argument("--resize", type=float, default=None, help="override the profile's LFW resize")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=None)
    parser.add_argument("--csv", default=None, help="resume file (default: next to --out)")
    parser.add_argument("--out", default=str(HERE / "results" / "lfw_sweep.json"))
    args = parser.parse_args(argv)
    profile = get_profile(args.profile)
    resize = profile.lfw_resize if args.resize is None else (None if args.resize == 1.0 else args.resize)
    epochs = args.epochs or profile.epochs
    seeds = args.seeds or list(profile.seeds)
    train, tr, va, test, tidx = lfw_view1(resize, train_pairs=profile.max_train_pairs,
                                          test_pairs=profile.max_test_pairs, seed=0)
    shape = (*train.image_shape, 1)
    run = lfw_sweep_run(train, tr, va, (test, tidx), input_shape=shape, epochs=epochs)
    configs = one_at_a_time_configs(dict(profile.sweep_base), profile.sweep_grid)
    csv = Path(args.csv) if args.csv else Path(args.out).with_suffix(".csv")
    rows = run_sweep(run, configs, seeds=seeds, csv_path=csv, max_seconds=profile.max_sweep_seconds,
                     errors="record")
    summary = summarize_sweep(rows, "test_accuracy")
    print(summary.round(3).to_string())
    result = {
        "benchmark": "lfw_sweep",
        **profile_label(profile.name, {"resize": args.resize if resize != profile.lfw_resize else None,
                                       "epochs": args.epochs if epochs != profile.epochs else None,
                                       "seeds": args.seeds if seeds != list(profile.seeds) else None}),
        "hardware": hardware(),
        "command": command_line("benchmarks/lfw_sweep.py", argv),
        "image_side": shape[0],
        "train_pairs": len(tr),
        "validation_pairs": len(va),
        "test_pairs": len(tidx),
        "epochs": epochs,
        "seeds": seeds,
        "base": dict(profile.sweep_base),
        "summary": summary.round(4).to_dict("records"),
        "runs": rows.drop(columns=["config"]).round(4).to_dict("records"),
        "not_run": rows.attrs.get("not_run", []),
    }
    print(f"wrote {write_result(result, args.out)}")
    return result


if __name__ == "__main__":
    main()
