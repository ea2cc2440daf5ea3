"""Peak memory of the LFW View 1 pairs: the seed's float32 arrays vs the package's uint8 table.

The LFW seed kept ``fetch_lfw_pairs(..., slice_=(slice(0, 250), slice(0, 250)),
resize=None)`` for train and test as float32 arrays of shape ``(N, 2, 250, 250, 1)``.
The package keeps each distinct image once, as ``uint8``, plus ``(N, 2)`` indices.
Each way runs in its own fresh process (peak RSS = ``ru_maxrss``) against a private
scikit-learn data home (links to the real files), so scikit-learn's joblib cache
starts empty: the seed is measured cold (first call, decodes and writes its cache)
and warm (second call, reads the cache). The ratio uses the warm, smaller, seed figure.

Usage::

    python benchmarks/data_memory.py                 # 250x250, train + test (~1 min)
    python benchmarks/data_memory.py --resize 0.1 --subsets test --out /tmp/x.json   # smoke
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from siamese_lessons.results import report_worker_result, run_worker

HERE = Path(__file__).resolve().parent


def _worker(method: str, data_home: str, subsets: list[str], resize: float | None) -> None:
    start = time.perf_counter()
    held = []
    if method == "seed":
        from sklearn.datasets import fetch_lfw_pairs

        for subset in subsets:
            bunch = fetch_lfw_pairs(subset=subset, data_home=data_home, resize=resize,
                                    slice_=(slice(0, 250), slice(0, 250)), download_if_missing=False)
            x = bunch.pairs.reshape(*bunch.pairs.shape, 1)  # (N, 2, H, W, 1) float32, as the seed
            held.append((x, bunch.target))
        nbytes = sum(x.nbytes + y.nbytes for x, y in held)
    elif method == "package":
        from siamese_lessons.data import load_lfw_pairs

        held = [load_lfw_pairs(s, data_home=data_home, resize=resize) for s in subsets]
        nbytes = sum(p.images.nbytes + p.pairs.nbytes + p.labels.nbytes for p in held)
    elif method == "imports":
        import sklearn.datasets  # noqa: F401

        import siamese_lessons.data  # noqa: F401

        nbytes = 0
    else:
        raise SystemExit(f"unknown method {method!r}")
    report_worker_result({"held_mb": nbytes / 2**20, "seconds": time.perf_counter() - start})


def _run(method: str, data_home: str, subsets: list[str], resize: float | None) -> dict:
    args = ["--data-home", data_home, "--subsets", *subsets]
    args += [] if resize is None else ["--resize", resize]
    return run_worker(__file__, method, args)


def _private_data_home(tmp: str) -> str:
    from siamese_lessons.data import lfw_home

    src = lfw_home()
    if not (src / "pairsDevTrain.txt").is_file():
        raise SystemExit(f"LFW not found at {src}: set SCIKIT_LEARN_DATA (see README)")
    dst = Path(tmp) / "lfw_home"
    dst.mkdir()
    for name in ("pairsDevTrain.txt", "pairsDevTest.txt", "pairs.txt", "lfw_funneled"):
        (dst / name).symlink_to(src / name)
    return tmp


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subsets", nargs="+", default=["train", "test"], choices=["train", "test"])
    parser.add_argument("--resize", type=float, default=None,
                        help="resize factor (default: none, the full 250x250 frame)")
    parser.add_argument("--out", default=str(HERE / "results" / "data_memory.json"))
    parser.add_argument("--worker", choices=["seed", "package", "imports"], help=argparse.SUPPRESS)
    parser.add_argument("--data-home", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args.worker, args.data_home, args.subsets, args.resize)
        return {}

    from siamese_lessons.results import command_line, format_table, hardware, write_result

    with tempfile.TemporaryDirectory() as tmp:
        home = _private_data_home(tmp)
        runs = {
            "imports only": _run("imports", home, args.subsets, args.resize),
            "seed, cold cache": _run("seed", home, args.subsets, args.resize),
            "seed, warm cache": _run("seed", home, args.subsets, args.resize),
            "package": _run("package", home, args.subsets, args.resize),
        }
    rows = [{"method": k, "peak RSS (MB)": v["peak_rss_mb"], "arrays held (MB)": v["held_mb"],
             "seconds": v["seconds"]} for k, v in runs.items()]
    print(format_table(rows))
    seed = runs["seed, warm cache"]
    pkg = runs["package"]
    side = 250 if args.resize is None else int(args.resize * 250)
    result = {
        "benchmark": "data_memory",
        "description": "peak RSS of holding the LFW View 1 pairs: seed float32 (N,2,H,W,1) "
                       "arrays from fetch_lfw_pairs vs the package's uint8 image table",
        "hardware": hardware(),
        "command": command_line("benchmarks/data_memory.py", argv),
        "subsets": args.subsets,
        "image_shape": [side, side],
        "seed_peak_rss_mb": round(seed["peak_rss_mb"], 1),
        "seed_cold_peak_rss_mb": round(runs["seed, cold cache"]["peak_rss_mb"], 1),
        "package_peak_rss_mb": round(pkg["peak_rss_mb"], 1),
        "imports_only_peak_rss_mb": round(runs["imports only"]["peak_rss_mb"], 1),
        "ratio": round(pkg["peak_rss_mb"] / seed["peak_rss_mb"], 3),
        "seed_held_mb": round(seed["held_mb"], 1),
        "package_held_mb": round(pkg["held_mb"], 1),
        "seed_seconds": round(seed["seconds"], 2),
        "seed_cold_seconds": round(runs["seed, cold cache"]["seconds"], 2),
        "package_seconds": round(pkg["seconds"], 2),
    }
    print(f"ratio (package / seed, peak RSS): {result['ratio']:.3f}")
    print(f"wrote {write_result(result, args.out)}")
    return result


if __name__ == "__main__":
    main()
