"""The command line: ``python -m siamese_lessons <command> ...``.

Commands
--------
make-pairs
    Write ``positive_pairs_path.txt`` and ``negative_pairs_path.txt`` from a
    clean list (``<identity>/<image>.jpg <label>`` lines) or an image folder
    (one sub-folder per identity), spread over all identities.
train
    Train a Siamese model on a clean list or image folder with streamed input,
    a ``tf.distribute`` strategy, optional mixed precision and XLA, checkpoints
    that resume after a crash, TensorBoard logs and an optional TFLite export.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from pathlib import Path


def _make_pairs(args: argparse.Namespace) -> int:
    from .data import read_clean_list, read_image_folder
    from .pairgen import write_pair_files

    source = Path(args.source)
    start = time.perf_counter()
    images = read_image_folder(source) if source.is_dir() else read_clean_list(source)
    print(f"read {len(images.paths):,} images of {len(set(images.labels.tolist())):,} identities "
          f"from {source} in {time.perf_counter() - start:.1f} s", flush=True)
    start = time.perf_counter()
    files = write_pair_files(images, args.out_dir, positives=args.positives, negatives=args.negatives,
                             seed=args.seed, progress=not args.quiet)
    print(f"wrote {files.positives:,} positive pairs to {files.positive_path} and {files.negatives:,} "
          f"negative pairs to {files.negative_path} in {time.perf_counter() - start:.1f} s; "
          f"positives use {files.identities_used:,} identities")
    return 0


def _train(args: argparse.Namespace) -> int:
    from .scale import ScaleConfig, train

    tower_kwargs = {}
    if args.filters:
        if args.tower != "improved":
            raise ValueError("--filters applies to --tower improved only")
        tower_kwargs["filters"] = tuple(args.filters)
    config = ScaleConfig(loss=args.loss, tower=args.tower, tower_kwargs=tower_kwargs,
                         embedding_dim=args.embedding_dim, image_size=tuple(args.image_size),
                         channels=args.channels, batch_size=args.batch_size, k=args.k, steps=args.steps,
                         learning_rate=args.learning_rate, margin=args.margin, mining=args.mining,
                         augment=not args.no_augment,
                         pairs_per_kind=args.pairs, num_shards=args.shards, strategy=args.strategy,
                         peer_timeout=args.peer_timeout, precision=args.precision, xla=args.xla,
                         checkpoint_every=args.checkpoint_every,
                         log_every=args.log_every, seed=args.seed)
    run = train(args.source, args.out_dir, config, tensorboard=not args.no_tensorboard,
                export_tflite=args.export_tflite,
                max_seconds=args.max_minutes * 60 if args.max_minutes else None, progress=not args.quiet,
                restart=args.restart)
    res = run.result
    resumed = f" (resumed at step {res.start_step})" if res.start_step else ""
    last = ""
    if len(res.history):
        row = res.history.iloc[-1]
        last = f"; last loss {row['loss']:.4f}, {row['images_per_s']:.0f} images/s"
    print(f"trained steps {res.start_step}-{res.final_step}{resumed} on {res.replicas} replica(s), global "
          f"batch {run.global_batch}, in {res.seconds:.1f} s{last}")
    if run.model_path:
        print(f"saved {run.model_path} and {run.embedder_path}")
    if run.tflite_path:
        print(f"exported {run.tflite_path}; largest difference from Keras {run.tflite_max_error:.2e}")
    return 0


def _checked(convert, ok, what: str):
    """An argparse ``type``: ``convert`` the text, then require ``ok(value)``; errors say ``what``."""

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text}")
        return value

    return parse


_positive_int = _checked(int, lambda v: v >= 1, "a positive integer")
_count = _checked(int, lambda v: v >= 0, "a non-negative integer")
_positive_float = _checked(float, lambda v: math.isfinite(v) and v > 0, "a positive, finite number")


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m siamese_lessons`` argument parser."""
    parser = argparse.ArgumentParser(prog="python -m siamese_lessons",
                                     description="Siamese Lessons command line.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    pairs = commands.add_parser(
        "make-pairs", help="write positive and negative pair files from a clean list or image folder",
        description="Write the MS-Celeb seed's two pair files (one '<path a> <path b>' line per pair), "
                    "with positives and negatives spread over every identity, no repeats, seeded.")
    pairs.add_argument("source", help="clean list file ('relative/path.jpg <label>' lines) or a folder "
                                      "with one sub-folder of images per identity")
    pairs.add_argument("--positives", type=_count, required=True, help="number of same-identity pairs")
    pairs.add_argument("--negatives", type=_count, required=True, help="number of different pairs")
    pairs.add_argument("--out-dir", required=True, help="folder for positive_pairs_path.txt and "
                                                       "negative_pairs_path.txt (created)")
    pairs.add_argument("--seed", type=_count, default=0)
    pairs.add_argument("--quiet", action="store_true", help="no progress bars")
    pairs.set_defaults(run=_make_pairs)

    from .distributed import PRECISIONS, STRATEGIES
    from .scale import LOSSES, MINING, TOWER_NAMES, ScaleConfig

    # The defaults are ScaleConfig's: one owner, whether a run starts here or from Python.
    default = {f.name: f.default for f in dataclasses.fields(ScaleConfig)
               if f.default is not dataclasses.MISSING}

    tr = commands.add_parser(
        "train",
        help="train a Siamese model on a clean list or image folder (streamed, distributed, resumable)",
        description="Train a Siamese network on a clean list or an identity folder. Data is streamed from "
                    "disk (pair files for the pair losses, TFRecord shards for triplet, both written once "
                    "into OUT_DIR); run the same command again to resume from OUT_DIR/checkpoints. "
                    "For several machines set TF_CONFIG on each and pass --strategy multiworker.",
        epilog="example: python -m siamese_lessons train MS-Celeb-1M_clean_list.txt --out-dir runs/msceleb "
               "--loss triplet --steps 100000 --precision mixed_bfloat16 --export-tflite")
    tr.add_argument("source", help="clean list file ('<identity>/<image>.jpg <label>' lines, paths relative "
                                   "to the list's folder) or a folder with one sub-folder per identity")
    tr.add_argument("--out-dir", required=True, help="run folder (created; reused to resume)")
    tr.add_argument("--loss", choices=LOSSES, default=default["loss"],
                    help="binary: sigmoid pair model (the seed's); contrastive: distance model; triplet: "
                         "online mining on P x K batches (default: %(default)s)")
    tr.add_argument("--tower", choices=TOWER_NAMES, default=default["tower"])
    tr.add_argument("--filters", type=_positive_int, nargs="+",
                    help="filters per block of the improved tower")
    tr.add_argument("--embedding-dim", type=_positive_int, default=default["embedding_dim"])
    tr.add_argument("--image-size", type=_positive_int, nargs=2, default=list(default["image_size"]),
                    metavar=("H", "W"))
    tr.add_argument("--channels", type=int, choices=(1, 3), default=default["channels"])
    tr.add_argument("--batch-size", type=_positive_int, default=default["batch_size"],
                    help="per replica: pairs, or images (P x K) for triplet; global = this x replicas")
    tr.add_argument("--k", type=_positive_int, default=default["k"],
                    help="images per identity in a triplet batch")
    tr.add_argument("--steps", type=_positive_int, required=True, help="optimizer steps of the whole run")
    tr.add_argument("--learning-rate", type=_positive_float, default=default["learning_rate"],
                    help="Adam, cosine-decayed over --steps")
    tr.add_argument("--margin", type=_positive_float, default=default["margin"])
    tr.add_argument("--mining", choices=MINING, default=default["mining"],
                    help="triplet miner: FaceNet's semi_hard, batch_all or batch_hard (default: %(default)s)")
    tr.add_argument("--no-augment", action="store_true", help="no flips or affine distortion")
    tr.add_argument("--pairs", type=_positive_int, default=default["pairs_per_kind"],
                    help="positive (and negative) pairs to write for the pair losses")
    tr.add_argument("--shards", type=_positive_int, default=default["num_shards"],
                    help="TFRecord shards to write for triplet")
    tr.add_argument("--strategy", choices=STRATEGIES, default=default["strategy"],
                    help="auto: multiworker if TF_CONFIG lists workers, mirrored if 2+ GPUs, else default")
    tr.add_argument("--peer-timeout", type=_positive_float, default=default["peer_timeout"],
                    help="multiworker: seconds to wait for the TF_CONFIG peers before stopping with an error "
                         "naming them (default %(default)s)")
    tr.add_argument("--precision", choices=PRECISIONS, default=default["precision"])
    tr.add_argument("--xla", action="store_true", help="compile the training step with XLA")
    tr.add_argument("--checkpoint-every", type=_positive_int, default=default["checkpoint_every"],
                    help="steps between checkpoints")
    tr.add_argument("--restart", action="store_true",
                    help="delete OUT_DIR's checkpoints and history and start from step 0 instead of resuming "
                         "(needed when no checkpoint there can be restored)")
    tr.add_argument("--log-every", type=_positive_int, default=default["log_every"],
                    help="steps between log lines")
    tr.add_argument("--max-minutes", type=_positive_float, help="stop (after a checkpoint) after this long")
    tr.add_argument("--no-tensorboard", action="store_true", help="no TensorBoard logs in OUT_DIR/logs")
    tr.add_argument("--export-tflite", action="store_true",
                    help="also write OUT_DIR/embedder.tflite and check it against Keras")
    tr.add_argument("--seed", type=_count, default=default["seed"])
    tr.add_argument("--quiet", action="store_true", help="no progress bars")
    tr.set_defaults(run=_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a command; errors about the user's input are printed without a traceback."""
    from .errors import CheckpointError

    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, OSError, CheckpointError) as err:
        # ValueError covers the package's input errors (malformed lines, corrupt images, bad
        # configurations, TF_CONFIG); OSError a path that cannot be read or written, which it names.
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
