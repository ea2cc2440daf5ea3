"""Chapter 1 at a chosen size: Koch et al.'s network on Omniglot, scored on the 400 official one-shot trials.

Trains with :func:`siamese_lessons.experiments.train_koch` (the chapter's code)
without and with the affine distortions, and compares with chance and the pixel
1-NN baseline. The background set is the full one when it can be had, else the
two official small sets (recorded as ``training_set``).

Usage::

    python benchmarks/omniglot_one_shot.py --profile full
    python benchmarks/omniglot_one_shot.py --pairs 8000 --epochs 6 --width 0.5     # a CPU-sized run
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> dict:
    from siamese_lessons import get_profile
    from siamese_lessons.data import load_omniglot, load_omniglot_one_shot_runs
    from siamese_lessons.datasets import KOCH_AFFINE
    from siamese_lessons.evaluation import nearest_neighbour_one_shot, one_shot_accuracy
    from siamese_lessons.experiments import train_koch
    from siamese_lessons.pairs import sample_pairs
    from siamese_lessons.results import command_line, format_table, hardware, write_result
    from siamese_lessons.training import split_validation

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default=None)
    parser.add_argument("--pairs", type=int, default=None, help="training pairs (default: the profile's)")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--width", type=float, default=None, help="tower width (default: the profile's)")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--out", default=str(HERE / "results" / "omniglot_one_shot.json"))
    args = parser.parse_args(argv)
    profile = get_profile(args.profile)
    n_pairs = args.pairs or profile.omniglot_train_pairs
    epochs = args.epochs or profile.epochs
    width = args.width or profile.model_width
    batch = args.batch_size or profile.batch_size

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        background = load_omniglot("auto")
    for w in caught:
        print(f"note: {w.message}")
    runs = load_omniglot_one_shot_runs()
    pairs = sample_pairs(background, n_pairs + 256, seed=0)
    train_index, val_index = split_validation(pairs, 256, seed=0)
    methods = {"chance": {"one_shot_accuracy": 1 / runs.n_way},
               "1-NN on pixels": {"one_shot_accuracy": nearest_neighbour_one_shot(runs)[0]}}
    for name, aug in [("Siamese, no distortions", None), ("Siamese, affine distortions", KOCH_AFFINE)]:
        print(f"== {name}", flush=True)
        exp = train_koch(pairs, train_index, val_index, width=width, epochs=epochs, batch_size=batch,
                         augmentation=aug, seed=0, verbose=2)
        acc, _ = one_shot_accuracy(exp.model, runs)
        methods[name] = {"one_shot_accuracy": acc, "val_accuracy": exp.metrics["val_accuracy"],
                         "best_epoch": exp.fit.best_epoch, "train_seconds": round(exp.fit.seconds, 1)}
    print(format_table([{"method": k, **v} for k, v in methods.items()]))
    result = {
        "benchmark": "omniglot_one_shot",
        "profile": profile.name,
        "hardware": hardware(),
        "command": command_line("benchmarks/omniglot_one_shot.py", argv),
        "training_set": f"{background.name}: {background.n_classes} characters, {len(background)} images",
        "train_pairs": n_pairs,
        "epochs": epochs,
        "width": width,
        "batch_size": batch,
        "trials": len(runs),
        "methods": methods,
    }
    print(f"wrote {write_result(result, args.out)}")
    return result


if __name__ == "__main__":
    main()
