"""The command line: ``python -m siamese_lessons <command> ...``.

Commands
--------
make-pairs
    Write ``positive_pairs_path.txt`` and ``negative_pairs_path.txt`` from a
    clean list (``<identity>/<image>.jpg <label>`` lines) or an image folder
    (one sub-folder per identity), spread over all identities.
"""

from __future__ import annotations

import argparse
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


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text}")
    return value


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
    pairs.add_argument("--positives", type=_positive_int, required=True, help="number of same-identity pairs")
    pairs.add_argument("--negatives", type=_positive_int, required=True, help="number of different pairs")
    pairs.add_argument("--out-dir", required=True, help="folder for positive_pairs_path.txt and "
                                                       "negative_pairs_path.txt (created)")
    pairs.add_argument("--seed", type=int, default=0)
    pairs.add_argument("--quiet", action="store_true", help="no progress bars")
    pairs.set_defaults(run=_make_pairs)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a command; errors about the user's input are printed without a traceback."""
    from .errors import DatasetNotFoundError, MalformedLineError

    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (DatasetNotFoundError, MalformedLineError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
