"""Chapter 6's comparison on LFW View 2: every model of the course and two classical baselines.

For each method and each of the ten folds of ``pairs.txt``, the learned models
train on every LFW image of the people *not* in that fold (checked), then score
the fold; the threshold of each fold is chosen on the other nine
(:func:`siamese_lessons.course.ch06_protocol.run_view2`). Writes, per model,
``accuracy_mean``, ``accuracy_std``, ``auc``, ``eer``, ``tar_at_far_1e-3`` (and
the fold accuracies and mean ROC), with the profile, hardware, Keras backend
and command, to ``benchmarks/results/lfw_view2.json``. Running a subset of
models merges them into an existing record.

Usage::

    python benchmarks/lfw_view2.py --profile full                       # all five methods
    python benchmarks/lfw_view2.py --models triplet contrastive         # merge two into the record
    python benchmarks/lfw_view2.py --export-arrays lfw_view2.npz        # data for a machine without LFW
    python benchmarks/lfw_view2.py --arrays lfw_view2.npz --models pair  # ... and the run there

``--export-arrays`` writes the face crops of all LFW images (one ``uint8``
table) and the View 2 pairs as rows of it, so a GPU machine without the dataset
(or without internet) can run the comparison from one file.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def export_arrays(path: str | Path, view2, people) -> Path:
    """Save ``people`` and ``view2`` (as rows of ``people``'s table) to one ``.npz``."""
    row = {p: i for i, p in enumerate(people.paths)}
    missing = [p for p in view2.paths if p not in row]
    if missing:
        raise ValueError(f"{len(missing)} View 2 images are not among the people images, e.g. {missing[0]}")
    rows = np.array([row[p] for p in view2.paths])
    path = Path(path)
    np.savez_compressed(path, images=people.images, labels=people.labels, class_names=people.class_names,
                        paths=people.paths, pairs=rows[view2.pairs], pair_labels=view2.labels,
                        folds=view2.folds)
    return path


def import_arrays(path: str | Path):
    """Inverse of :func:`export_arrays`: ``(view2, people)``."""
    from siamese_lessons.data import IdentitySet, PairSet

    with np.load(path, allow_pickle=False) as z:
        people = IdentitySet(images=z["images"], labels=z["labels"], class_names=z["class_names"],
                             paths=z["paths"], name="LFW people (exported)")
        used, inverse = np.unique(z["pairs"], return_inverse=True)
        view2 = PairSet(images=people.images[used], pairs=inverse.reshape(-1, 2), labels=z["pair_labels"],
                        identities=people.class_names[people.labels[used]], paths=people.paths[used],
                        folds=z["folds"], name="LFW View 2 (exported)")
    return view2, people


def main(argv: list[str] | None = None) -> dict:
    from siamese_lessons import get_profile
    from siamese_lessons._tf import backend_name
    from siamese_lessons.course.ch06_protocol import VIEW2_MODELS, run_view2, sizes
    from siamese_lessons.data import LFW_CLASSIC_CROP, load_lfw_pairs, load_lfw_people
    from siamese_lessons.data._common import output_shape
    from siamese_lessons.results import command_line, format_table, hardware, profile_label, write_result

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default=None, help="quick, full or auto (default: the environment's)")
    parser.add_argument("--models", nargs="+", default=list(VIEW2_MODELS), choices=VIEW2_MODELS)
    parser.add_argument("--resize", type=float, default=None,
                        help="resize of the 125x94 face crop (default: the profile's face_crop_resize)")
    parser.add_argument("--budget", nargs="+", default=[], metavar="FIELD=VALUE",
                        help="override fields of the profile's View2Budget, e.g. epochs=4 pk=16,4")
    parser.add_argument("--folds", type=int, default=10,
                        help="train and score only the first N folds (at least 2; thresholds still use all)")
    parser.add_argument("--arrays", default=None, help="read the data from an --export-arrays file")
    parser.add_argument("--export-arrays", default=None, help="write the data to this .npz and stop")
    parser.add_argument("--out", default=str(HERE / "results" / "lfw_view2.json"))
    parser.add_argument("--verbose", type=int, default=0, help="Keras progress output of each training")
    parser.add_argument("--fresh", action="store_true", help="replace the record instead of merging into it")
    args = parser.parse_args(argv)
    profile = get_profile(args.profile)
    budget = sizes(profile).budget
    for item in args.budget:
        field, _, value = item.partition("=")
        numbers = sorted(k for k in vars(budget) if k != "margin")
        if field not in numbers or not value:
            parser.error(f"--budget takes FIELD=VALUE with FIELD one of {numbers}, got {item!r}")
        parsed = tuple(int(v) for v in value.split(",")) if field == "pk" else int(value)
        budget = dataclasses.replace(budget, **{field: parsed})
    resize = args.resize if args.resize is not None else profile.face_crop_resize
    resize = None if resize == 1.0 else resize

    if args.arrays:
        view2, people = import_arrays(args.arrays)
    else:
        view2 = load_lfw_pairs("10_folds", crop=LFW_CLASSIC_CROP, resize=resize)
        people = load_lfw_people(crop=LFW_CLASSIC_CROP, resize=resize)
    if args.export_arrays:
        print("wrote", export_arrays(args.export_arrays, view2, people))
        return {}
    if not 2 <= args.folds <= 10:
        parser.error(f"--folds must be between 2 and 10, got {args.folds}")
    folds = None if args.folds == 10 else list(range(args.folds))
    print(f"{profile.describe()}; View 2 {len(view2)} pairs, {len(people)} people images of "
          f"{people.images.shape[1:]}; budget {budget}", flush=True)
    results = run_view2(view2, people, args.models, budget, folds=folds, verbose=args.verbose)
    expected = output_shape((250, 250), LFW_CLASSIC_CROP, profile.face_crop_resize)
    default_budget = sizes(profile).budget
    label = profile_label(profile.name, {
        "image_shape": None if tuple(people.images.shape[1:3]) == expected
        else list(people.images.shape[1:3]),
        "folds": args.folds if args.folds < 10 else None,
        **{f"budget.{k}": (v if v != getattr(default_budget, k) else None) for k, v in vars(budget).items()}})

    out = Path(args.out)
    record = {} if (args.fresh or not out.exists()) else json.loads(out.read_text(encoding="utf-8"))
    same_kind = (record.get("profile"), record.get("overrides", {})) == (label["profile"], label["overrides"])
    if record and not same_kind:
        raise ValueError(f"{out} holds a {record.get('profile')!r} record with overrides "
                         f"{record.get('overrides', {})}, this run is {label['profile']!r} with "
                         f"{label['overrides']}; pass --fresh to replace it")
    machine, command = hardware(), command_line("benchmarks/lfw_view2.py", argv)
    budget_fields = json.loads(json.dumps(dataclasses.asdict(budget)))  # tuples as lists
    models = dict(record.get("models", {}))
    for name, r in results.items():
        models[name] = {
            "what": r["what"],
            "accuracy_mean": r["accuracy_mean"],
            "accuracy_std": r["accuracy_std"],
            "auc": r["auc"],
            "eer": r["eer"],
            "tar_at_far_1e-3": r["tar_at_far"],
            "far_at_far_1e-3": r["far_at_far"],
            "fold_accuracies": r["fold_accuracies"],
            **({"final_losses": [round(v, 4) for v in r["final_losses"]]} if "final_losses" in r else {}),
            "roc_fpr": np.round(r["fpr"][::10], 4).tolist(),
            "roc_tpr": np.round(r["tpr"][::10], 4).tolist(),
            "seconds": round(r["seconds"], 1),
            "budget": budget_fields,
            "hardware": machine,
            "keras_backend": backend_name(),
            "command": command,
        }
    record.update({
        "benchmark": "lfw_view2",
        **label,
        "image_shape": list(people.images.shape[1:]),
        "folds": args.folds,
        "hardware": machine,
        "command": command,
        "models": {name: models[name] for name in VIEW2_MODELS if name in models},
    })
    write_result(record, out)
    rows = [{"model": name, "accuracy": f"{m['accuracy_mean']:.3f} ± {m['accuracy_std']:.3f}",
             "AUC": m["auc"], "EER": m["eer"], "TAR@FAR=1e-3": m["tar_at_far_1e-3"], "seconds": m["seconds"]}
            for name, m in record["models"].items()]
    print(format_table(rows))
    print("wrote", out)
    return record


if __name__ == "__main__":
    main()
