"""Chapter 2's ladder on LFW View 1, at a chosen size: the seed model, then one change at a time.

Runs :data:`siamese_lessons.course.ch02_lfw_pairs.LFW_STEPS` with
:func:`siamese_lessons.course.ch02_lfw_pairs.run_lfw_step` (the code the chapter runs) and
writes per-step DevTest accuracy (threshold chosen on the 55 validation pairs),
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
    from siamese_lessons import get_profile
    from siamese_lessons.course.ch02_lfw_pairs import LFW_STEPS, lfw_step_data, run_lfw_step
    from siamese_lessons.results import command_line, format_table, hardware, profile_label, write_result

    names = [s.name for s in LFW_STEPS]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default=None, help="quick, full or auto (default: the environment's)")
    parser.add_argument("--resize", type=float, default=None, help="override the profile's LFW resize")
    parser.add_argument("--epochs", type=int, default=None, help="override the profile's epochs")
    parser.add_argument("--steps", nargs="+", default=names, choices=names)
    parser.add_argument("--sampled-pairs", type=int, default=None)
    parser.add_argument("--arrays", default=None, help="read the data from an --export-arrays file")
    parser.add_argument("--export-arrays", default=None, help="write the steps' data to this .npz and stop")
    parser.add_argument("--out", default=str(HERE / "results" / "lfw_pairs.json"))
    args = parser.parse_args(argv)
    profile = get_profile(args.profile)
    resize = profile.lfw_resize if args.resize is None else (None if args.resize == 1.0 else args.resize)
    epochs = profile.epochs if args.epochs is None else args.epochs
    sampled = args.sampled_pairs or (20_000 if profile.name == "full" else 1_500)
    cache: dict = {} if args.arrays is None else _load_cache(args.arrays)
    if args.export_arrays:
        for step in LFW_STEPS:
            if step.name in args.steps:
                lfw_step_data(step, resize=resize, train_pairs=profile.max_train_pairs,
                              test_pairs=profile.max_test_pairs, sampled_pairs=sampled, cache=cache)
        print("wrote", _save_cache(args.export_arrays, cache))
        return {}
    rows, steps = [], {}
    for step in LFW_STEPS:
        if step.name not in args.steps:
            continue
        print(f"== {step.name}: {step.what}", flush=True)
        exp = run_lfw_step(step, resize=resize, train_pairs=profile.max_train_pairs,
                           test_pairs=profile.max_test_pairs, sampled_pairs=sampled, epochs=epochs,
                           batch_size=64, cache=cache, verbose=2)
        h = exp.fit.history
        m = dict(exp.metrics)
        m["best_test_accuracy_over_epochs"] = float(h["test_accuracy"].max())
        m["train_accuracy_at_kept_epoch"] = float(h.loc[h["epoch"] == exp.fit.best_epoch, "accuracy"].iloc[0])
        side = int((250 if resize is None else int(resize * 250)) * step.resolution_factor)
        m["image_side"] = side
        steps[step.name] = {"what": step.what, **m, "history": h.round(4).to_dict("list")}
        rows.append({"step": step.name, "side": side, "test acc": m["test_accuracy"], "AUC": m["test_auc"],
                     "kept epoch": m["best_epoch"],
                     "max test acc @0.5 (any epoch)": m["best_test_accuracy_over_epochs"],
                     "train acc": m["train_accuracy_at_kept_epoch"], "seconds": m["train_seconds"]})
        print(format_table(rows[-1:]), flush=True)
    print(format_table(rows))
    result = {
        "benchmark": "lfw_pairs",
        **profile_label(profile.name, {"resize": args.resize if resize != profile.lfw_resize else None,
                                       "epochs": args.epochs if epochs != profile.epochs else None,
                                       "sampled_pairs": args.sampled_pairs}),
        "hardware": hardware(),
        "command": command_line("benchmarks/lfw_pairs.py", argv),
        "epochs": epochs,
        "train_pairs": profile.max_train_pairs or 2145,
        "validation_pairs": 55,
        "test_pairs": profile.max_test_pairs or 1000,
        "steps": steps,
    }
    print(f"wrote {write_result(result, args.out)}")
    return result


if __name__ == "__main__":
    main()
