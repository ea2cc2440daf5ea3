"""Measured results: where they live, how they are written and read back.

Benchmarks write JSON to the repository's ``benchmarks/results/``; chapters read
it from there, so that the text quotes measured numbers with the hardware and
command that produced them, whatever profile the notebook itself ran in.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "RESULTS_ENV",
    "RESULT_PREFIX",
    "command_line",
    "format_table",
    "hardware",
    "load_result",
    "peak_rss_mb",
    "profile_label",
    "report_worker_result",
    "results_dir",
    "run_worker",
    "write_result",
]

#: Environment variable that overrides the results folder.
RESULTS_ENV = "SIAMESE_LESSONS_RESULTS"


def results_dir() -> Path:
    """The results folder: ``$SIAMESE_LESSONS_RESULTS``, else ``benchmarks/results``
    of the repository this package was installed from (an editable install or a clone)."""
    if os.environ.get(RESULTS_ENV):
        return Path(os.environ[RESULTS_ENV])
    return Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def load_result(name: str) -> dict[str, Any]:
    """Read ``<results_dir>/<name>.json``.

    Raises
    ------
    FileNotFoundError
        If the file is not there, with where it was looked for and how to get it.
    """
    path = results_dir() / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"no measured result {path}: run the benchmark that writes it "
            f"(benchmarks/{name}.py), or clone the repository and install it with "
            f"'pip install -e .', or set {RESULTS_ENV}")
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def write_result(payload: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Write ``payload`` as indented JSON (parent folders created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def command_line(script: str, argv: Sequence[str] | None = None) -> str:
    """The command that reproduces a run, for a result's ``command`` field.

    ``script`` is the path from the repository root (``benchmarks/x.py``);
    ``argv`` the arguments (default: this process's).
    """
    import shlex
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    return " ".join(["python", script, shlex.join(args)]).strip()


def profile_label(profile: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A record's ``profile`` and ``overrides`` fields: ``profile`` as given only when no
    size was overridden (every value in ``overrides`` is ``None``), else ``"reduced"``
    with the overridden sizes listed and the profile they were applied to.

    Examples
    --------
    >>> profile_label("full", {"epochs": None})
    {'profile': 'full', 'overrides': {}}
    >>> profile_label("full", {"epochs": 3, "pairs": None})
    {'profile': 'reduced', 'overrides': {'epochs': 3}, 'base_profile': 'full'}
    """
    changed = {k: v for k, v in overrides.items() if v is not None}
    if not changed:
        return {"profile": profile, "overrides": {}}
    return {"profile": "reduced", "overrides": changed, "base_profile": profile}


def hardware() -> str:
    """One line naming the CPU, core count, memory and any GPU TensorFlow would use.

    GPUs are read from ``nvidia-smi`` when it exists, so TensorFlow is not imported.
    """
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    parts = [f"{cpu}, {os.cpu_count()} logical cores"]
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        parts.append(f"{pages * size / 2**30:.0f} GiB RAM")
    except (ValueError, OSError, AttributeError):
        pass
    import shutil
    import subprocess

    gpu = "no GPU"
    if shutil.which("nvidia-smi"):
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                             capture_output=True, text=True, check=False).stdout.strip()
        if out:
            gpu = ", ".join(out.splitlines())
    parts.append(gpu)
    return "; ".join(parts)


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Plain-text table of ``rows``: floats of 1 or more with one decimal, smaller ones
    to 3 significant digits."""
    if not rows:
        return "(no rows)"
    columns = list(columns or rows[0].keys())

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.1f}" if abs(v) >= 1 else f"{v:.3g}"
        return str(v)

    body = [[cell(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(b[i]) for b in body)) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    sep = "  ".join("-" * w for w in widths)
    rows_text = ["  ".join(v.ljust(w) for v, w in zip(b, widths, strict=True)) for b in body]
    return "\n".join([line, sep, *rows_text])


# --- The benchmark harness: each measured way runs in a fresh worker process ----------------

#: The line a worker prints last: this prefix, then its result as one line of JSON.
RESULT_PREFIX = "RESULT "


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MiB.

    On Linux this is ``VmHWM`` from ``/proc/self/status``: the high-water mark of this
    process's own address space, which starts afresh at ``exec``. ``ru_maxrss`` does not:
    Linux carries the peak of the address space a process replaced across ``exec``, so a
    worker started by a parent holding 4 GiB reports at least 4 GiB. Elsewhere
    ``ru_maxrss`` is used (bytes on macOS, KiB on other systems).
    """
    import resource
    import sys

    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def report_worker_result(result: Mapping[str, Any]) -> None:
    """In a benchmark's worker process: print ``result`` with this process's
    ``peak_rss_mb`` added, as the ``RESULT {json}`` line :func:`run_worker` reads."""
    import sys

    payload = {**result, "peak_rss_mb": peak_rss_mb()}
    print(RESULT_PREFIX + json.dumps(payload), flush=True)
    sys.stdout.flush()


def run_worker(script: str | os.PathLike, worker: str, args: Sequence[str] = (), *,
               env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Run one measured way of a benchmark in a fresh Python process and return its result.

    Runs ``python <script> --worker <worker> <args...>``; the script's worker calls
    :func:`report_worker_result`, so the peak memory measured is that way's alone (a
    fresh process starts from nothing, whatever ran before it).

    Raises
    ------
    RuntimeError
        If the worker exits with an error or prints no result line; the message
        names the worker and holds the end of its output.
    """
    import subprocess
    import sys

    cmd = [sys.executable, str(script), "--worker", worker, *map(str, args)]
    run = subprocess.run(cmd, capture_output=True, text=True, check=False,
                         env=None if env is None else dict(env))
    lines = [ln for ln in run.stdout.splitlines() if ln.startswith(RESULT_PREFIX)]
    if run.returncode != 0 or not lines:
        raise RuntimeError(f"benchmark worker {worker!r} of {script} failed (exit code {run.returncode}, "
                           f"{'no' if not lines else 'a'} result line):\n{run.stdout[-2000:]}\n"
                           f"{run.stderr[-4000:]}")
    return json.loads(lines[-1][len(RESULT_PREFIX):])
