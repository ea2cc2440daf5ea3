"""Training throughput (images/s) of the course's models, with and without mixed precision.

For each model, batch size and precision policy, builds the model fresh, runs a
few warm-up training steps on one fixed random batch that already sits on the
device (so the input pipeline is not measured), then times ``--steps`` steps.
Images per second count every image through a tower (a pair is two images).

``seed pair``
    The LFW seed's pair model at 250x250 grey (2 conv blocks of 64, dense 1024,
    L1 + sigmoid, binary cross-entropy, Adam).
``embedding``
    Chapters 4-6's embedding network (improved tower + projection + L2
    normalisation) on the 125x94 face crop, batch-hard triplet loss on P x 4 batches.

Writes ``benchmarks/results/gpu_throughput.json`` with the hardware named.
Configurations that fail (out of memory, say) are recorded with their error.

Usage::

    python benchmarks/gpu_throughput.py                           # on a GPU machine
    python benchmarks/gpu_throughput.py --scale 0.1 --batches 4 8 --steps 2 --out /tmp/t.json  # smoke
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MODELS = ("seed pair", "embedding")


def _build(name: str, scale: float, batch: int):
    from siamese_lessons._tf import keras as _keras
    from siamese_lessons.course.faces import face_embedder
    from siamese_lessons.losses import BatchHardTripletLoss
    from siamese_lessons.models import lfw_seed_tower, siamese_pair_model
    from siamese_lessons.training import compile_model, compile_pair_model

    keras = _keras()
    rng = np.random.default_rng(0)
    if name == "seed pair":
        side = max(8, int(250 * scale))
        model = siamese_pair_model(lfw_seed_tower((side, side, 1), seed=0), seed=0)
        compile_pair_model(model, optimizer="adam", learning_rate=6e-5)
        x = [rng.random((batch, side, side, 1), np.float32) for _ in range(2)]
        y = (np.arange(batch) % 2).astype(np.float32)
        return model, x, y, 2 * batch, [side, side]
    h, w = max(8, int(125 * scale)), max(8, int(94 * scale))
    model = face_embedder((h, w, 1), seed=0)
    compile_model(model, optimizer=keras.optimizers.Adam(1e-3), loss=BatchHardTripletLoss(margin=0.2))
    x = rng.random((batch, h, w, 1), np.float32)
    y = np.repeat(np.arange(batch // 4 + 1), 4)[:batch]
    return model, x, y, batch, [h, w]


def measure(name: str, batch: int, precision: str, *, scale: float = 1.0, steps: int = 20,
            warmup: int = 3) -> dict:
    """Images per second of ``steps`` training steps after ``warmup`` (compilation) steps."""
    from siamese_lessons._tf import keras as _keras

    keras = _keras()
    keras.mixed_precision.set_global_policy(precision)
    try:
        model, x, y, images, shape = _build(name, scale, batch)
        to_device = keras.ops.convert_to_tensor
        x = [to_device(a) for a in x] if isinstance(x, list) else to_device(x)
        y = keras.ops.convert_to_tensor(y)
        start = time.perf_counter()
        for _ in range(warmup):
            loss = model.train_on_batch(x, y)
        compile_seconds = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(steps):
            loss = model.train_on_batch(x, y)
        loss = float(np.asarray(loss if np.ndim(loss) == 0 else loss[0]))  # waits for the device
        seconds = time.perf_counter() - start
    finally:
        keras.mixed_precision.set_global_policy("float32")
        keras.backend.clear_session()
    return {"model": name, "batch": batch, "precision": precision, "image_shape": shape,
            "images_per_s": images * steps / seconds, "step_ms": 1000 * seconds / steps,
            "warmup_seconds": compile_seconds, "final_loss": loss, "finite": bool(np.isfinite(loss))}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--batches", nargs="+", type=int, default=[32, 128, 512])
    parser.add_argument("--precisions", nargs="+", default=["float32", "mixed_bfloat16"])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--scale", type=float, default=1.0, help="image size factor (smoke runs)")
    parser.add_argument("--out", default=str(HERE / "results" / "gpu_throughput.json"))
    args = parser.parse_args(argv)

    from siamese_lessons._tf import backend_name, gpu_count
    from siamese_lessons.results import command_line, format_table, hardware, write_result

    runs = []
    result = {"benchmark": "gpu_throughput", "hardware": hardware(), "keras_backend": backend_name(),
              "gpus": gpu_count(), "command": command_line("benchmarks/gpu_throughput.py", argv),
              "steps": args.steps, "runs": runs}
    for name in args.models:
        for batch in args.batches:
            for precision in args.precisions:
                try:
                    row = measure(name, batch, precision, scale=args.scale, steps=args.steps)
                except Exception as err:  # noqa: BLE001 - recorded, e.g. out of memory at a large batch
                    row = {"model": name, "batch": batch, "precision": precision,
                           "error": f"{type(err).__name__}: {str(err)[:300]}"}
                runs.append(row)
                write_result(result, args.out)  # after every configuration: a cut-off run keeps its rows
                print({k: (round(v, 2) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    print(format_table([{k: r.get(k, "-") for k in ("model", "batch", "precision", "images_per_s", "step_ms")}
                        for r in runs]))
    print(f"wrote {write_result(result, args.out)}")
    return result


if __name__ == "__main__":
    main()
