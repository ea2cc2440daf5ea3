"""Which distortions chapter 4's contrastive embedder trains with, chosen on the validation people.

Trains chapter 4's run (``ch04.SIZES`` for the profile, the code the chapter runs) once
per candidate augmentation and seed, and scores each embedder on the validation
people's pairs (:func:`siamese_lessons.course.faces.face_data`: people held out of
training, disjoint from DevTest). DevTest is never scored here: the choice this record
supports (``ContrastiveRun.augmentation``) is made without it.

``--pairs``, ``--epochs`` and ``--resize`` override the chapter's sizes; the record then says
``"profile": "reduced"`` with the overrides.

Usage::

    python benchmarks/contrastive_augmentation.py --profile quick --seeds 0 1
"""

from __future__ import annotations

import argparse
from pathlib import Path

HERE = Path(__file__).resolve().parent


def candidates() -> dict:
    """The augmentations compared, by name."""
    from siamese_lessons.augmentation import FACE_AUGMENTATION, FLIP

    return {"none": None, "flips": FLIP, "flips, rotations, zooms, shifts": FACE_AUGMENTATION}


def main(argv: list[str] | None = None) -> dict:
    import dataclasses

    import numpy as np

    from siamese_lessons import get_profile
    from siamese_lessons.course import ch04_contrastive as ch04
    from siamese_lessons.course.faces import face_data
    from siamese_lessons.evaluation import embedding_pair_scores, roc_auc
    from siamese_lessons.results import command_line, format_table, hardware, profile_label, write_result

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default=None, help="quick, full or auto (default: the environment's)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--pairs", type=int, default=None, help="override chapter 4's training pairs")
    parser.add_argument("--epochs", type=int, default=None, help="override chapter 4's epochs")
    parser.add_argument("--resize", type=float, default=None,
                        help="override chapter 4's resize of the 125x94 face crop (quick: 0.25, 31x23)")
    parser.add_argument("--out", default=str(HERE / "results" / "contrastive_augmentation.json"))
    args = parser.parse_args(argv)
    profile = get_profile(args.profile)
    given = {k: v for k, v in {"pairs": args.pairs, "epochs": args.epochs, "resize": args.resize}.items()
             if v is not None}
    chapter = ch04.sizes(profile)
    base = dataclasses.replace(chapter, **given)  # the chapter's sizes unless overridden
    overridden = {k: v for k, v in given.items() if getattr(chapter, k) != v}
    data = face_data(base.resize)  # the chapter's face size for this profile
    labels = data.validation_pairs.labels
    rows, results = [], {}
    for name, augmentation in candidates().items():
        run = dataclasses.replace(base, augmentation=augmentation)
        aucs, losses = [], []
        for seed in args.seeds:
            embedder, fit = ch04.train(data, run, seed=seed, verbose=0)
            aucs.append(float(roc_auc(embedding_pair_scores(embedder, data.validation_pairs), labels)[3]))
            losses.append(float(fit.history["val_loss"].min()))
        results[name] = {"augmentation": None if augmentation is None else dataclasses.asdict(augmentation),
                         "validation_auc": aucs, "validation_loss": losses}
        rows.append({"augmentation": name, "validation AUC (mean)": float(np.mean(aucs)),
                     "per seed": " ".join(f"{a:.3f}" for a in aucs),
                     "validation loss (mean)": float(np.mean(losses))})
        print(format_table(rows[-1:]), flush=True)
    print(format_table(rows))
    best = max(results, key=lambda k: np.mean(results[k]["validation_auc"]))
    print(f"highest mean validation AUC: {best}")
    result = {
        "benchmark": "contrastive_augmentation",
        **profile_label(profile.name, overridden),
        "hardware": hardware(),
        "command": command_line("benchmarks/contrastive_augmentation.py", argv),
        "run": {k: v for k, v in dataclasses.asdict(base).items() if k != "augmentation"},
        "image_shape": list(data.test.image_shape),
        "seeds": list(args.seeds),
        "validation_pairs": int(len(labels)),
        "candidates": results,
        "best": best,
    }
    print(f"wrote {write_result(result, args.out)}")
    return result


if __name__ == "__main__":
    main()
