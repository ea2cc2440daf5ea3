"""Chapter 3's one-at-a-time sweep around chapter 2's last rung, over several seeds.

Same code as the chapter: :mod:`siamese_lessons.course.ch03_sweeps`
(:func:`~siamese_lessons.course.ch03_sweeps.sweep_run`) and
:func:`siamese_lessons.sweeps.run_sweep`. Results are appended to a CSV as they
finish (``--csv``), so an interrupted run resumes; the JSON holds every run and
the summary per setting, ranked on validation accuracy with test accuracy beside it.

Usage::

    python benchmarks/lfw_sweep.py --profile full                 # chapter 3's full sweep (GPU)
    python benchmarks/lfw_sweep.py --profile quick                # the chapter's quick sweep (CPU)
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> dict:
    from siamese_lessons import get_profile
    from siamese_lessons.course import ch03_sweeps as ch03
    from siamese_lessons.results import command_line, hardware, profile_label, write_result
    from siamese_lessons.sweeps import one_at_a_time_configs, run_sweep, summarize_sweep

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default=None)
    parser.add_argument("--resize", type=float, default=None, help="override the sweep runs' LFW resize")
    parser.add_argument("--epochs", type=int, default=None, help="override the sweep runs' epochs")
    parser.add_argument("--pairs", type=int, default=None, help="override the sweep runs' sampled pairs")
    parser.add_argument("--seeds", type=int, nargs="+", default=None)
    parser.add_argument("--csv", default=None, help="resume file (default: next to --out)")
    parser.add_argument("--out", default=str(HERE / "results" / "lfw_sweep.json"))
    args = parser.parse_args(argv)
    profile = get_profile(args.profile)
    default = ch03.sizes(profile)
    overrides = {"resize": args.resize, "epochs": args.epochs, "sampled_pairs": args.pairs}
    sweep = dataclasses.replace(default.sweep, **{k: v for k, v in overrides.items() if v is not None})
    seeds = tuple(args.seeds) if args.seeds else default.seeds
    run = dataclasses.replace(default, sweep=sweep, seeds=seeds)

    configs = one_at_a_time_configs(dict(run.base), run.grid)
    csv = Path(args.csv) if args.csv else Path(args.out).with_suffix(".csv")
    rows = run_sweep(ch03.sweep_run(run), configs, seeds=list(run.seeds), csv_path=csv,
                     max_seconds=run.max_seconds, errors="record")
    summary = summarize_sweep(rows, "val_accuracy", n_items=run.sweep.validation_pairs,
                              report=["test_accuracy"])
    print(summary.round(3).to_string())
    changed = {k: getattr(sweep, k) for k in ("resize", "epochs", "sampled_pairs")
               if getattr(sweep, k) != getattr(default.sweep, k)}
    if seeds != default.seeds:
        changed["seeds"] = list(seeds)
    step, _ = ch03.configure(run.base)
    result = {
        "benchmark": "lfw_sweep",
        **profile_label(profile.name, changed),
        "hardware": hardware(),
        "command": command_line("benchmarks/lfw_sweep.py", argv),
        "image_side": ch03.ch02.step_image_shape(step, run.sweep)[0],
        "sampled_pairs": run.sweep.sampled_pairs,
        "validation_pairs": run.sweep.validation_pairs,
        "epochs": run.sweep.epochs,
        "seeds": list(run.seeds),
        "base": dict(run.base),
        "summary": summary.round(4).to_dict("records"),
        "runs": rows.drop(columns=["config"]).round(4).to_dict("records"),
        "not_run": rows.attrs.get("not_run", []),
    }
    print(f"wrote {write_result(result, args.out)}")
    return result


if __name__ == "__main__":
    main()
