"""Input throughput: the streaming ``tf.data`` pipelines against the seed's PIL loop, same run.

Takes LFW's deep-funneled JPEGs (250x250, 5,749 identities) as a stand-in for
an MS-Celeb clean list, writes pair files with the package's generator, and
times how fast each way delivers training images (a pair counts two), no model
attached:

``seed (PIL loop)``
    The MS-Celeb seed's way: read the pair lines, and for every batch open
    both images of each pair with PIL in a Python loop, resize, stack into
    NumPy arrays. One thread.
``tf.data from pair files``
    :func:`siamese_lessons.streaming.pair_file_dataset`: the same pair files
    and size, lines shuffled in a buffer, decode and resize in parallel
    (``AUTOTUNE``), prefetch.
``tf.data from TFRecord shards``
    :func:`siamese_lessons.streaming.pk_shard_dataset`: P x K batches from
    identity shards written once at the training size (writing time reported
    separately).

Writes ``benchmarks/results/input_pipeline.json`` (``images_per_s`` is the
pair-file pipeline, ``baseline_images_per_s`` the PIL loop).

Usage::

    python benchmarks/input_pipeline.py                      # 112x112 RGB, batch 64, 40 batches each
    python benchmarks/input_pipeline.py --batches 4 --identities 50 --out /tmp/ip.json   # smoke
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def pil_pair_batches(pair_lines: list[str], root: str, size: tuple[int, int], batch_pairs: int,
                     channels: int):
    """The seed's loader: every batch decoded image by image with PIL in this thread."""
    from PIL import Image

    mode = "RGB" if channels == 3 else "L"
    for start in range(0, len(pair_lines) - batch_pairs + 1, batch_pairs):
        left, right = [], []
        for line in pair_lines[start:start + batch_pairs]:
            a, b = line.split()
            for path, out in ((a, left), (b, right)):
                with Image.open(os.path.join(root, path)) as img:
                    img = img.convert(mode).resize((size[1], size[0]), Image.Resampling.BILINEAR)
                    out.append(np.asarray(img, dtype=np.float32) / 255.0)
        yield (np.stack(left), np.stack(right)), np.zeros(batch_pairs, np.float32)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image-size", type=int, nargs=2, default=[112, 112])
    parser.add_argument("--channels", type=int, choices=(1, 3), default=3)
    parser.add_argument("--batch-pairs", type=int, default=64, help="pairs per batch (128 images)")
    parser.add_argument("--batches", type=int, default=40, help="timed batches per method")
    parser.add_argument("--identities", type=int, default=0, help="use only the first N identities (0: all)")
    parser.add_argument("--out", default=str(HERE / "results" / "input_pipeline.json"))
    args = parser.parse_args(argv)

    from siamese_lessons import streaming as st
    from siamese_lessons.data import lfw_home, read_image_folder
    from siamese_lessons.data.containers import ImageList
    from siamese_lessons.pairgen import write_pair_files
    from siamese_lessons.results import command_line, format_table, hardware, write_result

    images = read_image_folder(lfw_home() / "lfw_funneled")
    if args.identities:
        keep = images.labels < args.identities
        images = ImageList(root=images.root, paths=images.paths[keep], labels=images.labels[keep])
    size, n_batches, warmup = tuple(args.image_size), args.batches, 2
    needed = (n_batches + warmup) * args.batch_pairs
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        files = write_pair_files(images, Path(tmp) / "pairs", positives=needed, negatives=needed)
        with open(files.positive_path) as fp, open(files.negative_path) as fn:
            mixed = [line for pair in zip(fp, fn, strict=True) for line in pair]

        baseline = st.measure_throughput(
            pil_pair_batches(mixed, images.root, size, args.batch_pairs, args.channels),
            n_batches=n_batches, warmup=warmup, progress=True)
        rows.append({"method": "seed (PIL loop)", "images_per_s": baseline.images_per_s,
                     "images": baseline.images, "seconds": baseline.seconds})

        stream = st.measure_throughput(
            st.pair_file_dataset(Path(tmp) / "pairs", images.root, image_size=size, channels=args.channels,
                                 batch_size=args.batch_pairs,
                                 deterministic=False),  # throughput: reads may overtake each other
            n_batches=n_batches, warmup=warmup, progress=True)
        rows.append({"method": "tf.data from pair files", "images_per_s": stream.images_per_s,
                     "images": stream.images, "seconds": stream.seconds})

        start = time.perf_counter()
        shards = st.write_tfrecord_shards(images, Path(tmp) / "shards", image_size=size,
                                          channels=args.channels,
                                          num_shards=16 if len(np.unique(images.labels)) > 200 else 2,
                                          progress=True)
        write_seconds = time.perf_counter() - start
        k = 4
        sharded = st.measure_throughput(st.pk_shard_dataset(shards, p=2 * args.batch_pairs // k, k=k,
                                                            deterministic=False),
                                        n_batches=n_batches, warmup=warmup, progress=True)
        rows.append({"method": "tf.data from TFRecord shards (P x K)", "images_per_s": sharded.images_per_s,
                     "images": sharded.images, "seconds": sharded.seconds})
    print(format_table(rows))
    result = {
        "images_per_s": stream.images_per_s,
        "baseline_images_per_s": baseline.images_per_s,
        "speedup": stream.images_per_s / baseline.images_per_s,
        "shards_images_per_s": sharded.images_per_s,
        "shard_write_seconds": write_seconds,
        "shard_images": shards.images,
        "shard_identities": shards.identities,
        "shard_megabytes": shards.bytes / 2**20,
        "image_size": list(size),
        "channels": args.channels,
        "batch_images": 2 * args.batch_pairs,
        "timed_batches": n_batches,
        "source": f"LFW deep-funneled JPEGs (250x250), {len(images):,} images of "
                  f"{len(np.unique(images.labels)):,} identities",
        "cpu_count": os.cpu_count(),
        "methods": rows,
        "hardware": hardware(),
        "command": command_line("benchmarks/input_pipeline.py", argv),
    }
    print(f"tf.data from pair files: {stream.images_per_s:,.0f} images/s vs the PIL loop's "
          f"{baseline.images_per_s:,.0f} ({result['speedup']:.1f}x)")
    print(f"wrote {write_result(result, args.out)}")
    return result


if __name__ == "__main__":
    main()
