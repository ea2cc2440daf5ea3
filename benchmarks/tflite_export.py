"""Chapter 8's on-device model as a record: the best margin-softmax embedder exported to
TFLite as float32, float16 and int8 (post-training, calibrated on training images), with
each file's size, median CPU latency per face, and DevTest accuracy against the Keras model.

Trains chapter 8's margin-softmax variants (:mod:`siamese_lessons.course.ch08_margin_softmax`)
at the profile's sizes on the LFW training people, picks the one with the best accuracy
on the *validation* people's pairs, and runs the chapter's ``on_device``: every format
gets its own threshold from the validation pairs, then is scored once on the DevTest
pairs (people the embedder never saw). The difference to the Keras model is paired, pair
by pair, with its standard error. Writes ``benchmarks/results/tflite_export.json``.

Usage::

    python benchmarks/tflite_export.py --profile quick        # about 2 minutes on 2 CPU cores
    python benchmarks/tflite_export.py --profile full         # the GPU-sized embedder
    python benchmarks/tflite_export.py --methods normface --runs 200 --out /tmp/t.json
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> dict:
    import pandas as pd

    from siamese_lessons import get_profile
    from siamese_lessons._tf import backend_name
    from siamese_lessons.course import ch08_margin_softmax as ch08
    from siamese_lessons.course.faces import face_data
    from siamese_lessons.evaluation import compare_verifiers, embedding_pair_scores, paired_difference
    from siamese_lessons.results import command_line, format_table, hardware, profile_label, write_result

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default=None, help="quick, full or auto (default: the environment's)")
    parser.add_argument("--methods", nargs="+", default=list(ch08.VARIANTS), choices=list(ch08.METHODS),
                        help="candidates; the best on the validation pairs is exported")
    parser.add_argument("--steps", type=int, default=None,
                        help="override the profile's training steps (a multiple of its epochs)")
    parser.add_argument("--runs", type=int, default=1000, help="timed calls per format (median reported)")
    parser.add_argument("--out", default=str(HERE / "results" / "tflite_export.json"))
    args = parser.parse_args(argv)
    profile = get_profile(args.profile)
    run = ch08.sizes(profile)
    if args.steps is not None:
        import dataclasses

        run = dataclasses.replace(run, steps=args.steps)
    data = face_data(run.resize)

    candidates, seconds = {}, {}
    for method in args.methods:
        start = time.perf_counter()
        candidates[method] = ch08.train_method(data.train, run, method, seed=0)
        seconds[method] = round(time.perf_counter() - start, 1)
        print(f"trained {method} in {seconds[method]:.0f} s", flush=True)
    val = {m: embedding_pair_scores(e, data.validation_pairs) for m, e in candidates.items()}
    tst = {m: embedding_pair_scores(e, data.test) for m, e in candidates.items()}
    choice, _ = compare_verifiers(val, data.validation_pairs.labels, tst, data.test.labels)
    best = choice["validation accuracy"].idxmax()  # chosen on the validation people only
    print(f"exporting {best} (best on the validation pairs)", flush=True)

    with tempfile.TemporaryDirectory() as folder:
        table, correct = ch08.on_device(candidates[best], data, folder, runs=args.runs, seed=0)
    reference = correct["Keras (float32)"]
    formats = {}
    for name, row in table.iterrows():
        diff, se = paired_difference(correct[name], reference)
        formats[name] = {
            # The Keras model has no file and no TFLite latency.
            "size_kb": None if pd.isna(row["size (kB)"]) else round(float(row["size (kB)"]), 1),
            "latency_ms": None if pd.isna(row["latency (ms)"]) else round(float(row["latency (ms)"]), 4),
            "threshold": float(row["threshold"]),
            "validation_accuracy": float(row["validation accuracy"]),
            "test_accuracy": float(row["test accuracy"]),
            "test_auc": float(row["test AUC"]),
            "test_accuracy_minus_keras": float(diff),
            "paired_standard_error": float(se),
            "changed_answers": int((correct[name] != reference).sum()),
        }
    rows = [{"format": k, "size kB": v["size_kb"], "latency ms": v["latency_ms"],
             "DevTest acc": v["test_accuracy"], "minus Keras": v["test_accuracy_minus_keras"],
             "paired SE": v["paired_standard_error"]} for k, v in formats.items()]
    print(format_table(rows))
    embedder = candidates[best]
    result = {
        "benchmark": "tflite_export",
        **profile_label(profile.name, {"steps": args.steps}),
        "hardware": hardware(),
        "keras_backend": backend_name(),
        "command": command_line("benchmarks/tflite_export.py", argv),
        "what": "chapter 8's best margin-softmax embedder (chosen on validation pairs) as TFLite files; "
                "latency is the median of single-face calls on this machine's CPU; accuracy is on LFW "
                "DevTest pairs (people the embedder never trained on), each format at its own threshold "
                "from the validation people's pairs",
        "image_shape": list(data.train.images.shape[1:3]),
        "embedder": {"method": best, "parameters": int(embedder.count_params()), "steps": run.steps,
                     "batch_size": run.batch_size, "train_seconds": seconds},
        "candidates_validation_accuracy": choice["validation accuracy"].astype(float).to_dict(),
        "calibration_images": 200,
        "latency_runs": args.runs,
        "validation_pairs": len(data.validation_pairs),
        "test_pairs": len(data.test),
        "formats": formats,
    }
    print(f"wrote {write_result(result, args.out)}")
    return result


if __name__ == "__main__":
    main()
