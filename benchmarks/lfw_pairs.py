"""Chapter 2's ladder on LFW View 1, at a chosen size: the seed model, then one change at a time.

Runs :data:`siamese_lessons.course.ch02_lfw_pairs.LFW_STEPS` with
:func:`siamese_lessons.course.ch02_lfw_pairs.run_step` at chapter 2's sizes for the profile
(``ch02.SIZES``; ``--resize``, ``--epochs`` and ``--sampled-pairs`` override them, and the
record then says ``"profile": "reduced"`` with the overrides), the code the chapter runs, and
writes per-step DevTest accuracy (threshold chosen on the held-out validation pairs),
AUC, the kept epoch, the best per-epoch test accuracy (Keras's, at threshold 0.5:
what picking the epoch on the test set would have reported), training time and
the per-epoch history (see ``siamese_lessons.course.ch02_lfw_pairs.summarize_lfw_record``).

Usage::

    python benchmarks/lfw_pairs.py --profile full                 # all steps, full profile sizes
    python benchmarks/lfw_pairs.py --resize 1.0 --steps seed --epochs 10 --out results/lfw_seed_250.json
    python benchmarks/lfw_pairs.py --profile full --export-arrays .gpu/lfw_view1.npz   # data to carry
    python benchmarks/lfw_pairs.py --profile full --arrays .gpu/lfw_view1.npz          # ... the run there

``--export-arrays`` loads what the chosen steps train and test on (View 1 pairs at each
step's resolution, and the pairsDevTrain people for the sampled-pairs step) into one
``.npz`` (:func:`siamese_lessons.data.save_arrays`), so that a GPU machine without LFW
runs the same steps from it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _cache_name(key) -> str:
    kind, resize = key
    return f"{kind}_{'full' if resize is None else str(resize).replace('.', 'p')}"


def _save_cache(path, cache: dict):
    """The loaded View 1 data of ``cache`` (see ``lfw_step_data``) as one save_arrays file."""
    from siamese_lessons.data import save_arrays

    named = {}
    for key, value in cache.items():
        if key[0] == "pairs":
            named[_cache_name(key) + "_train"], named[_cache_name(key) + "_test"] = value
        else:
            named[_cache_name(key)] = value
    return save_arrays(path, **named)


def _load_cache(path) -> dict:
    from siamese_lessons.data import load_arrays

    carried = load_arrays(path)
    cache = {}
    for name, value in carried.items():
        kind, size, *part = name.split("_")
        resize = None if size == "full" else float(size.replace("p", "."))
        if kind == "pairs":
            cache[(kind, resize)] = (carried[f"pairs_{size}_train"], carried[f"pairs_{size}_test"])
        else:
            cache[(kind, resize)] = value
    return cache


def main(argv: list[str] | None = None) -> dict:
    import dataclasses

    from siamese_lessons import get_profile
    from siamese_lessons.course import ch02_lfw_pairs as ch02
    from siamese_lessons.results import command_line, format_table, hardware, profile_label, write_result

    names = [s.name for s in ch02.LFW_STEPS]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default=None, help="quick, full or auto (default: the environment's)")
    parser.add_argument("--resize", type=float, default=None,
                        help="override chapter 2's LFW resize (1.0: the full 250x250 frame)")
    parser.add_argument("--epochs", type=int, default=None, help="override chapter 2's epochs")
    parser.add_argument("--steps", nargs="+", default=names, choices=names)
    parser.add_argument("--sampled-pairs", type=int, default=None, help="override chapter 2's sampled pairs")
    parser.add_argument("--arrays", default=None, help="read the data from an --export-arrays file")
    parser.add_argument("--export-arrays", default=None, help="write the steps' data to this .npz and stop")
    parser.add_argument("--out", default=str(HERE / "results" / "lfw_pairs.json"))
    args = parser.parse_args(argv)
    profile = get_profile(args.profile)
    base = ch02.sizes(profile)  # the chapter's own sizes; the options below override them
    given = {k: v for k, v in {"resize": args.resize, "epochs": args.epochs,
                               "sampled_pairs": args.sampled_pairs}.items() if v is not None}
    run = dataclasses.replace(base, **{k: None if (k, v) == ("resize", 1.0) else v for k, v in given.items()})
    overridden = {k: v for k, v in given.items() if getattr(run, k) != getattr(base, k)}
    cache: dict = {} if args.arrays is None else _load_cache(args.arrays)
    if args.export_arrays:
        for step in ch02.LFW_STEPS:
            if step.name in args.steps:
                ch02.lfw_step_data(step, resize=run.resize, train_pairs=run.train_pairs,
                                   test_pairs=run.test_pairs, sampled_pairs=run.sampled_pairs,
                                   validation_pairs=run.validation_pairs, cache=cache)
        print("wrote", _save_cache(args.export_arrays, cache))
        return {}
    rows, steps = [], {}
    for step in ch02.LFW_STEPS:
        if step.name not in args.steps:
            continue
        print(f"== {step.name}: {step.what}", flush=True)
        exp = ch02.run_step(step, run, cache=cache, verbose=2)
        h = exp.fit.history
        m = dict(exp.metrics)
        m["best_test_accuracy_over_epochs"] = float(h["test_accuracy"].max())
        m["train_accuracy_at_kept_epoch"] = float(h.loc[h["epoch"] == exp.fit.best_epoch, "accuracy"].iloc[0])
        side = int((250 if run.resize is None else int(run.resize * 250)) * step.resolution_factor)
        m["image_side"] = side
        steps[step.name] = {"what": step.what, **m, "history": h.round(4).to_dict("list")}
        rows.append({"step": step.name, "side": side, "test acc": m["test_accuracy"], "AUC": m["test_auc"],
                     "kept epoch": m["best_epoch"],
                     "max test acc @0.5 (any epoch)": m["best_test_accuracy_over_epochs"],
                     "train acc": m["train_accuracy_at_kept_epoch"], "seconds": m["train_seconds"]})
        print(format_table(rows[-1:]), flush=True)
    print(format_table(rows))
    # The official split's sizes, counted (the sampled-pairs rung trains on run.sampled_pairs instead).
    _, official_train, official_val, _, test_index = ch02.lfw_view1(
        run.resize, train_pairs=run.train_pairs, test_pairs=run.test_pairs,
        validation_pairs=run.validation_pairs, cache=cache)
    result = {
        "benchmark": "lfw_pairs",
        **profile_label(profile.name, overridden),
        "hardware": hardware(),
        "command": command_line("benchmarks/lfw_pairs.py", argv),
        "epochs": run.epochs,
        "train_pairs": len(official_train),
        "validation_pairs": len(official_val),
        "test_pairs": len(test_index),
        "steps": steps,
    }
    print(f"wrote {write_result(result, args.out)}")
    return result


if __name__ == "__main__":
    main()
