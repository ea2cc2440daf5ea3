"""Pair files from an MS-Celeb-sized clean list: the package's generator against the seed's way.

Builds a synthetic clean list in the MS-Celeb format (``--lines`` images over
``--identities`` identities, skewed sizes like the real list), then, each in a
fresh process (peak RSS = ``ru_maxrss``), writes ``--positives`` + ``--negatives``
pairs in the seed's two files:

``package``
    :func:`siamese_lessons.pairgen.write_pair_files`: quotas over all
    identities, vectorised, written block by block.
``package, 1/10 of the pairs``
    The same with a tenth of the pairs, to show that memory does not grow with
    the number of pairs.
``seed (itertools)``
    The seed's algorithm as the issue describes it, in plain Python: every
    ``itertools.combinations`` pair of one identity after another until the
    positives are full, and ``itertools.product`` of consecutive identities for
    the negatives.

Reports pairs, seconds (generation + writing; the list is already in memory),
peak RSS and the identities that received a positive pair. Writes
``benchmarks/results/pairgen.json``.

Usage::

    python benchmarks/pairgen.py                                   # 5M lines, 1.5M + 1.5M pairs
    python benchmarks/pairgen.py --lines 20000 --identities 400 --positives 3000 --negatives 3000 \
        --out /tmp/p.json
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

import numpy as np

from siamese_lessons.results import report_worker_result, run_worker

HERE = Path(__file__).resolve().parent


def synthetic_labels(lines: int, identities: int, seed: int = 0) -> np.ndarray:
    """Identity of each line: skewed (log-normal) identity sizes, at least 1, summing to ``lines``."""
    rng = np.random.default_rng(seed)
    size = rng.lognormal(0.0, 0.8, identities)
    size = np.maximum(1, np.floor(size / size.sum() * lines)).astype(np.int64)
    size[np.argmax(size)] += lines - size.sum()
    return np.repeat(np.arange(identities), size)


def synthetic_paths(labels: np.ndarray) -> np.ndarray:
    """MS-Celeb-like relative paths ``m.<identity>/<k>-FaceId-0.jpg``."""
    _, start = np.unique(labels, return_index=True)
    k = np.arange(len(labels)) - start[labels]
    return np.char.add(np.char.add(np.char.add("m.0", np.char.mod("%06x", labels)), "/"),
                       np.char.add(k.astype(str), "-FaceId-0.jpg"))


def _seed_way(paths, labels, positives: int, negatives: int, out: Path) -> tuple[int, int, int]:
    groups = [list(g) for _, g in itertools.groupby(range(len(labels)), key=lambda i: labels[i])]
    pos, used = [], set()
    for g in groups:
        for a, b in itertools.combinations(g, 2):
            if len(pos) == positives:
                break
            pos.append(f"{paths[a]} {paths[b]}\n")
            used.add(int(labels[a]))
        if len(pos) == positives:
            break
    neg = []
    for g, h in itertools.pairwise(groups):
        for a, b in itertools.product(g, h):
            if len(neg) == negatives:
                break
            neg.append(f"{paths[a]} {paths[b]}\n")
        if len(neg) == negatives:
            break
    (out / "positive_pairs_path.txt").write_text("".join(pos), encoding="utf-8")
    (out / "negative_pairs_path.txt").write_text("".join(neg), encoding="utf-8")
    return len(pos), len(neg), len(used)


def _worker(method: str, lines: int, identities: int, positives: int, negatives: int) -> None:
    from siamese_lessons.data.containers import ImageList
    from siamese_lessons.pairgen import write_pair_files

    labels = synthetic_labels(lines, identities)
    paths = synthetic_paths(labels)
    if method == "list":
        paths.tolist()  # what the seed's way also builds
        report_worker_result({})
        return
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        if method == "seed":
            n_pos, n_neg, used = _seed_way(paths.tolist(), labels.tolist(), positives, negatives, Path(tmp))
        else:
            if method == "package-tenth":
                positives, negatives = positives // 10, negatives // 10
            files = write_pair_files(ImageList(root=".", paths=paths, labels=labels), tmp,
                                     positives=positives, negatives=negatives, seed=0)
            n_pos, n_neg, used = files.positives, files.negatives, files.identities_used
        seconds = time.perf_counter() - start
        size_mb = sum(f.stat().st_size for f in Path(tmp).iterdir()) / 2**20
    report_worker_result({"pairs": n_pos + n_neg, "positives": n_pos, "negatives": n_neg, "seconds": seconds,
                          "identities_used": used, "files_mb": size_mb})


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=5_000_000)
    parser.add_argument("--identities", type=int, default=79_000)
    parser.add_argument("--positives", type=int, default=1_500_000)
    parser.add_argument("--negatives", type=int, default=1_500_000)
    parser.add_argument("--out", default=str(HERE / "results" / "pairgen.json"))
    parser.add_argument("--worker", choices=["list", "package", "package-tenth", "seed"],
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = (args.lines, args.identities, args.positives, args.negatives)
    if args.worker:
        _worker(args.worker, *sizes)
        return {}

    from siamese_lessons.results import command_line, format_table, hardware, write_result

    runs = {}
    for name, worker in (("building the list only", "list"), ("package", "package"),
                         ("package, 1/10 of the pairs", "package-tenth"), ("seed (itertools)", "seed")):
        print(f"== {name}", flush=True)
        sizes_args = ["--lines", args.lines, "--identities", args.identities, "--positives", args.positives,
                      "--negatives", args.negatives]
        runs[name] = run_worker(__file__, worker, sizes_args)
    baseline_rss = runs.pop("building the list only")["peak_rss_mb"]
    rows = [{"method": k, "pairs": v["pairs"], "seconds": v["seconds"], "peak RSS MB": v["peak_rss_mb"],
             "identities used": v["identities_used"]} for k, v in runs.items()]
    print(format_table(rows))
    print(f"peak RSS of building the list alone: {baseline_rss:.0f} MB")
    pkg, seed = runs["package"], runs["seed (itertools)"]
    result = {
        "benchmark": "pairgen",
        "hardware": hardware(),
        "command": command_line("benchmarks/pairgen.py", argv),
        "lines": args.lines,
        "identities": args.identities,
        "identities_with_two_or_more_images": int((np.bincount(synthetic_labels(args.lines, args.identities))
                                                   >= 2).sum()),
        "list_only_peak_rss_mb": baseline_rss,
        "pairs": pkg["pairs"], "seconds": pkg["seconds"], "peak_rss_mb": pkg["peak_rss_mb"],
        "identities_used": pkg["identities_used"],
        "tenth": runs["package, 1/10 of the pairs"],
        "baseline": {"pairs": seed["pairs"], "seconds": seed["seconds"], "peak_rss_mb": seed["peak_rss_mb"],
                     "identities_used": seed["identities_used"]},
    }
    print(f"wrote {write_result(result, args.out)}")
    return result


if __name__ == "__main__":
    main()
