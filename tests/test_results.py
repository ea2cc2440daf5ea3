"""siamese_lessons.results: records, their labels and tables, and the benchmark harness."""

import json
import textwrap

import pytest

from siamese_lessons.results import (
    RESULTS_ENV,
    format_table,
    load_result,
    profile_label,
    report_worker_result,
    run_worker,
    write_result,
)


def test_write_then_load_a_record_from_the_results_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(RESULTS_ENV, str(tmp_path))
    path = write_result({"benchmark": "x", "value": 0.5, "rows": [1, 2]}, tmp_path / "x.json")
    assert json.loads(path.read_text()) == {"benchmark": "x", "value": 0.5, "rows": [1, 2]}
    assert load_result("x")["value"] == 0.5
    with pytest.raises(FileNotFoundError, match="benchmarks/missing.py"):
        load_result("missing")


def test_profile_label_is_full_only_without_overrides():
    assert profile_label("full", {"epochs": None, "pairs": None}) == {"profile": "full", "overrides": {}}
    assert profile_label("full", {"epochs": 3, "pairs": None}) == {
        "profile": "reduced", "overrides": {"epochs": 3}, "base_profile": "full"}


def test_format_table_aligns_columns_and_rounds():
    text = format_table([{"a": 12.345, "b": "x"}, {"a": 0.012345, "b": "long"}])
    assert [line.rstrip() for line in text.splitlines()] == ["a       b", "------  ----", "12.3    x",
                                                              "0.0123  long"]
    assert format_table([]) == "(no rows)"


def _script(tmp_path, body: str):
    path = tmp_path / "bench.py"
    path.write_text(textwrap.dedent(f"""
        import sys
        from siamese_lessons.results import report_worker_result
        worker = sys.argv[sys.argv.index("--worker") + 1]
        args = sys.argv[sys.argv.index("--worker") + 2:]
        {body}
    """))
    return path


def test_run_worker_returns_the_workers_result_and_its_own_peak_memory(tmp_path):
    script = _script(tmp_path, """
        import numpy as np
        block = np.ones(int(args[0]) * 2**20, np.uint8)  # touched: resident
        print("noise before the result")
        report_worker_result({"worker": worker, "args": args, "held_mb": block.nbytes / 2**20})
    """)
    small = run_worker(script, "small", [10])
    big = run_worker(script, "big", [300])
    assert small["worker"] == "small" and small["args"] == ["10"] and small["held_mb"] == 10
    # Each way is measured in its own process: the big allocation shows in its peak alone.
    assert big["peak_rss_mb"] - small["peak_rss_mb"] > 200


def test_run_worker_names_a_failing_worker(tmp_path):
    crash = _script(tmp_path, 'raise SystemExit("out of luck")')
    with pytest.raises(RuntimeError, match=r"(?s)worker 'w'.*exit code 1.*out of luck"):
        run_worker(crash, "w")
    silent = _script(tmp_path, 'print("done, but no result")')
    with pytest.raises(RuntimeError, match="no result line"):
        run_worker(silent, "w")


def test_report_worker_result_prints_one_json_line(capsys):
    report_worker_result({"seconds": 1.5})
    line = capsys.readouterr().out.strip()
    assert line.startswith("RESULT ")
    payload = json.loads(line[len("RESULT "):])
    assert payload["seconds"] == 1.5 and payload["peak_rss_mb"] > 10


def test_a_workers_peak_memory_does_not_include_its_parents(tmp_path):
    # A parent holding far more than the worker ever touches: the worker's peak must stay
    # small (ru_maxrss would report the parent's peak, which Linux keeps across exec).
    import numpy as np

    held = np.ones(600 * 2**20, np.uint8)
    script = _script(tmp_path, 'report_worker_result({"worker": worker})')
    small = run_worker(script, "small")
    assert held.sum() > 0 and small["peak_rss_mb"] < 300
