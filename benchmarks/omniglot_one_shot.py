"""Chapter 1's experiment as a record: Siamese pair network and cosine-softmax embedding on
Omniglot, each against its untrained twin and pixel 1-NN on the 400 official one-shot trials.

Calls :mod:`siamese_lessons.course.ch01_omniglot` (the chapter's code) with the
chapter's sizes for the profile. Overriding any size makes the record
``"profile": "reduced"`` with the overrides listed. The background set is the
full one when it can be had, else the two official small sets (recorded as
``training_set``).

Usage::

    python benchmarks/omniglot_one_shot.py --profile full                      # the GPU record
    python benchmarks/omniglot_one_shot.py --profile full --pairs 4000 --epochs 3 --embedding-epochs 5
    python benchmarks/omniglot_one_shot.py --export-arrays .gpu/omniglot.npz   # data for a machine without it
    python benchmarks/omniglot_one_shot.py --profile full --arrays .gpu/omniglot.npz   # ... and the run there
"""

from __future__ import annotations

import argparse
import dataclasses
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> dict:
    from siamese_lessons import get_profile
    from siamese_lessons.course import ch01_omniglot as ch01
    from siamese_lessons.data import load_arrays, load_omniglot, load_omniglot_one_shot_runs, save_arrays
    from siamese_lessons.evaluation import margin_table
    from siamese_lessons.results import command_line, format_table, hardware, profile_label, write_result

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default=None)
    parser.add_argument("--pairs", type=int, default=None,
                        help="Siamese training pairs (default: the profile's)")
    parser.add_argument("--epochs", type=int, default=None, help="Siamese epochs")
    parser.add_argument("--embedding-epochs", type=int, default=None)
    parser.add_argument("--embedding-filters", type=int, nargs="+", default=None,
                        help="filters of the embedding tower's blocks (default: the profile's)")
    parser.add_argument("--width", type=float, default=None, help="Koch tower width (full profile only)")
    parser.add_argument("--arrays", default=None, help="read the data from an --export-arrays file")
    parser.add_argument("--export-arrays", default=None, help="write the data to this .npz and stop")
    parser.add_argument("--out", default=str(HERE / "results" / "omniglot_one_shot.json"))
    args = parser.parse_args(argv)
    profile = get_profile(args.profile)
    sizes = ch01.sizes(profile)
    run, emb_run = sizes.siamese, sizes.embedding
    if args.width is not None:
        if run.tower != "koch":
            parser.error(f"--width applies to Koch's tower; the {profile.name} profile trains {run.tower!r}")
        run = dataclasses.replace(run, tower_kwargs={**run.tower_kwargs, "width": args.width})
    run = dataclasses.replace(run, pairs=args.pairs or run.pairs, epochs=args.epochs or run.epochs)
    emb_run = dataclasses.replace(emb_run, epochs=args.embedding_epochs or emb_run.epochs,
                                  filters=tuple(args.embedding_filters or emb_run.filters))
    label = profile_label(profile.name, {"pairs": args.pairs, "epochs": args.epochs, "width": args.width,
                                         "embedding_epochs": args.embedding_epochs,
                                         "embedding_filters": args.embedding_filters})

    if args.arrays:
        carried = load_arrays(args.arrays)
        background, runs = carried["background"], carried["trials"]
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            background = load_omniglot("auto")
        for w in caught:
            print(f"note: {w.message}")
        runs = load_omniglot_one_shot_runs()
    if args.export_arrays:
        print("wrote", save_arrays(args.export_arrays, background=background, trials=runs))
        return {}
    start = time.perf_counter()
    siamese, fit = ch01.train_siamese(background, run, seed=0, verbose=2)
    siamese_seconds = time.perf_counter() - start
    embedder, history = ch01.train_embedder(background, emb_run, seed=0, verbose=2)
    credit = ch01.score_one_shot(runs, {
        "1-NN on pixels": "pixels",
        "Siamese, untrained twin": ch01.build_siamese(run, seed=0), "Siamese, trained": siamese,
        "embedding, untrained twin": ch01.build_embedder(emb_run, seed=0), "embedding, trained": embedder})
    methods = {"chance": {"one_shot_accuracy": 1 / runs.n_way}}
    methods.update({name: {"one_shot_accuracy": float(c.mean())} for name, c in credit.items()})
    methods["Siamese, trained"].update(best_epoch=fit.best_epoch, epochs_run=len(fit.history),
                                       train_seconds=round(siamese_seconds, 1))
    methods["embedding, trained"].update(epochs_run=len(history),
                                         train_seconds=round(history.attrs["seconds"], 1))
    pairs = [(model, other) for model in ("Siamese, trained", "embedding, trained")
             for other in (model.replace("trained", "untrained twin"), "1-NN on pixels")]
    table = margin_table(credit, pairs)
    margins = table.rename(columns={"standard error": "standard_error"})[
        ["model", "versus", "margin", "standard_error"]].to_dict(orient="records")
    print(format_table([{"method": k, **v} for k, v in methods.items()]))
    print(format_table(margins))
    result = {
        "benchmark": "omniglot_one_shot",
        **label,
        "hardware": hardware(),
        "command": command_line("benchmarks/omniglot_one_shot.py", argv),
        "training_set": f"{background.name}: {background.n_classes} characters, {len(background)} images",
        "siamese": {**{f.name: getattr(run, f.name) for f in dataclasses.fields(run)},
                    "tower_kwargs": dict(run.tower_kwargs),
                    "augmentation": run.augmentation and dataclasses.asdict(run.augmentation)},
        "embedding": dataclasses.asdict(emb_run),
        "trials": len(runs),
        "methods": methods,
        "margins": margins,
        "siamese_history": fit.history.to_dict(orient="list"),
    }
    print(f"wrote {write_result(result, args.out)}")
    return result


if __name__ == "__main__":
    main()
