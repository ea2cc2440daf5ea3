"""LFW View 1 under one wall-clock budget: the seed's way against the course's best models.

Three methods, each in a fresh process on the same machine, each with the same
training budget (``--budget-minutes``, data loading not counted):

``seed baseline``
    A faithful copy of the LFW seed: ``fetch_lfw_pairs`` at 250x250 held as
    float32 ``(N, 2, 250, 250, 1)`` arrays, its final tower (2 conv blocks of 64
    3x3 filters, dropout 0.5, dense 1024, sigmoid), L1 distance + sigmoid,
    Adam 6e-5, batch 64, on pairsDevTrain split 2,145 / 55; the epoch kept is the
    best on the 55 validation pairs.
``best pair model``
    Chapter 2's last rung ("more pairs"): the improved tower on 31x31 images,
    trained on pairs sampled from all images of the pairsDevTrain people.
``best embedding``
    Chapter 5/6's best: the batch-hard triplet embedding on the 62x47 face crop,
    trained on LFW people disjoint from pairsDevTest (10 % of them held out to
    choose the threshold).

Each is scored on pairsDevTest (1,000 pairs) with the accuracy threshold chosen
on its own validation pairs, and AUC. Peak RSS is the worker process's
``ru_maxrss``. Writes ``benchmarks/results/lfw_verification.json``.

Usage::

    python benchmarks/lfw_verification.py --budget-minutes 10       # ~35 minutes on 2 cores
    python benchmarks/lfw_verification.py --budget-minutes 0.2 --resize 0.2 --out /tmp/v.json  # smoke
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from siamese_lessons.results import report_worker_result, run_worker

HERE = Path(__file__).resolve().parent
METHODS = ("seed baseline", "best pair model", "best embedding")


def _seed_baseline(budget: float, resize: float | None) -> dict:
    from sklearn.datasets import fetch_lfw_pairs

    from siamese_lessons._tf import keras as _keras
    from siamese_lessons.course.ch02_lfw_pairs import LFW_SEED_SPLIT
    from siamese_lessons.evaluation import accuracy_at, best_threshold, roc_auc
    from siamese_lessons.models import lfw_seed_tower, siamese_pair_model
    from siamese_lessons.training import KeepBest, TimeLimit, compile_pair_model, split_validation

    keras = _keras()
    data = {}
    for subset in ("train", "test"):
        bunch = fetch_lfw_pairs(subset=subset, resize=resize, slice_=(slice(0, 250), slice(0, 250)),
                                download_if_missing=False)
        # scikit-learn's float32 pixels are in [0, 1]; the package's towers take the 0-255 scale and
        # rescale inside, so the seed's arrays go in times 255 (its model sees the seed's values).
        data[subset] = (bunch.pairs.reshape(*bunch.pairs.shape, 1) * np.float32(255.0),
                        bunch.target.astype(np.float32))
    x, y = data["train"]
    xt, yt = data["test"]
    tr, va = split_validation(y, LFW_SEED_SPLIT[1], seed=0)
    keras.utils.set_random_seed(0)
    model = siamese_pair_model(lfw_seed_tower(x.shape[2:], seed=0), seed=0)
    compile_pair_model(model, optimizer="adam", learning_rate=6e-5)
    keep, limit = KeepBest("val_loss", "min"), TimeLimit(budget)
    start = time.perf_counter()
    hist = model.fit([x[tr, 0], x[tr, 1]], y[tr], validation_data=([x[va, 0], x[va, 1]], y[va]),
                     batch_size=64, epochs=10_000, verbose=2, callbacks=[keep, limit])
    seconds = time.perf_counter() - start
    val = model.predict([x[va, 0], x[va, 1]], batch_size=64, verbose=0).ravel()
    threshold, _ = best_threshold(val, y[va])
    test = model.predict([xt[:, 0], xt[:, 1]], batch_size=64, verbose=0).ravel()
    return {"devtest_accuracy": accuracy_at(test, yt, threshold), "auc": roc_auc(test, yt)[3],
            "train_seconds": seconds, "epochs_run": len(hist.history["loss"]),
            "kept_epoch": keep.best_epoch + 1, "image_shape": list(x.shape[2:4]),
            "devtest_accuracy_at_0.5": accuracy_at(test, yt, 0.5)}


def _best_pair(budget: float, resize: float | None) -> dict:
    from siamese_lessons.course.ch02_lfw_pairs import LFW_STEPS, run_lfw_step

    step = LFW_STEPS[-1]
    exp = run_lfw_step(step, resize=resize, train_pairs=None, test_pairs=None, sampled_pairs=8000,
                       epochs=10_000, max_seconds=budget, track_test=False, verbose=2)
    m = exp.metrics
    return {"devtest_accuracy": m["test_accuracy"], "auc": m["test_auc"], "train_seconds": m["train_seconds"],
            "epochs_run": m["epochs_run"], "kept_epoch": m["best_epoch"], "what": step.what,
            "image_shape": list(exp.test_set.image_shape)}


def _best_embedding(budget: float, resize: float | None) -> dict:
    from siamese_lessons.course.ch05_triplet import train_triplet
    from siamese_lessons.course.faces import lfw_embedding_data
    from siamese_lessons.evaluation import accuracy_at, best_threshold, embedding_pair_scores, roc_auc
    from siamese_lessons.pairs import sample_pairs

    train, test = lfw_embedding_data(resize)
    rng = np.random.default_rng(0)
    held_people = rng.permutation(len(train.class_names))[: len(train.class_names) // 10]
    held = np.isin(train.labels, held_people)
    fit_set, val_set = train.subset(~held), train.subset(held)
    val = sample_pairs(val_set, 600, seed=1)
    start = time.perf_counter()
    embedder, hist = train_triplet(fit_set, mining="batch_hard", pk=(16, 4), steps_per_epoch=100,
                                   epochs=200, max_seconds=budget, seed=0, verbose=2)
    seconds = time.perf_counter() - start
    threshold, _ = best_threshold(embedding_pair_scores(embedder, val), val.labels)
    scores = embedding_pair_scores(embedder, test)
    return {"devtest_accuracy": accuracy_at(scores, test.labels, threshold),
            "auc": roc_auc(scores, test.labels)[3], "train_seconds": seconds, "epochs_run": len(hist),
            "image_shape": list(test.image_shape), "final_loss": float(hist["loss"].iloc[-1])}


def _worker(method: str, budget: float, resize: float | None) -> None:
    from siamese_lessons.course.faces import QUICK_FACE_RESIZE

    # Each method's resize: (this benchmark's, a smoke run's). A smoke run (--resize R) shrinks the
    # seed's 250x250 frames by R and runs the course's two models at the quick chapters' sizes
    # (chapter 2's 31x31 rung, the 31x23 face crop of chapters 4-8), whose decoded images those
    # chapters keep in the decode cache.
    runners = {"seed baseline": (_seed_baseline, (None, resize)),
               "best pair model": (_best_pair, (0.25, 0.25)),
               "best embedding": (_best_embedding, (0.5, QUICK_FACE_RESIZE))}
    run, sizes = runners[method]
    start = time.perf_counter()
    out = run(budget, sizes[resize is not None])
    out["total_seconds"] = time.perf_counter() - start
    report_worker_result(out)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget-minutes", type=float, default=10.0, help="training budget of each method")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--resize", type=float, default=None,
                        help="smoke runs: shrink the seed's images by this factor and run the course's "
                             "models at the quick chapters' sizes")
    parser.add_argument("--out", default=str(HERE / "results" / "lfw_verification.json"))
    parser.add_argument("--worker", choices=METHODS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    budget = args.budget_minutes * 60
    if args.worker:
        _worker(args.worker, budget, args.resize)
        return {}

    from siamese_lessons.results import command_line, format_table, hardware, write_result

    methods = {}
    for method in args.methods:
        print(f"== {method}", flush=True)
        methods[method] = run_worker(__file__, method, ["--budget-minutes", args.budget_minutes]
                                     + ([] if args.resize is None else ["--resize", args.resize]))
        got = methods[method]
        print(f"   accuracy {got['devtest_accuracy']:.3f} in {got['train_seconds']:.0f} s", flush=True)
    rows = [{"method": k, "DevTest accuracy": v["devtest_accuracy"], "AUC": v["auc"],
             "train s": v["train_seconds"], "epochs": v["epochs_run"], "peak RSS MB": v["peak_rss_mb"],
             "image": "x".join(map(str, v["image_shape"]))} for k, v in methods.items()]
    print(format_table(rows))
    result = {
        "benchmark": "lfw_verification",
        "budget_minutes": args.budget_minutes,
        "hardware": hardware(),
        "command": command_line("benchmarks/lfw_verification.py", argv),
        "test_pairs": 1000,
        "methods": methods,
    }
    if {"seed baseline", "best pair model", "best embedding"} <= set(methods):
        best = max(methods[m]["devtest_accuracy"] for m in ("best pair model", "best embedding"))
        result["margin_over_seed"] = best - methods["seed baseline"]["devtest_accuracy"]
        print(f"course's best minus seed baseline: {result['margin_over_seed']:+.3f} (target +0.10)")
    print(f"wrote {write_result(result, args.out)}")
    return result


if __name__ == "__main__":
    main()
