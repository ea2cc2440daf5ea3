"""Smoke tests: every benchmark runs end to end at a tiny size and writes its JSON."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.data
def test_data_memory_smoke(lfw_data_home, tmp_path):
    out = tmp_path / "data_memory.json"
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks/data_memory.py"), "--resize", "0.1",
                          "--subsets", "test", "--out", str(out)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert "ratio" in run.stdout and "package" in run.stdout
    result = json.loads(out.read_text())
    for key in ("seed_peak_rss_mb", "package_peak_rss_mb", "ratio", "hardware", "command"):
        assert key in result
    assert result["image_shape"] == [25, 25]
    # At 25x25 the arrays are tiny, but the seed still holds more than the package.
    assert result["seed_held_mb"] > result["package_held_mb"]
    assert result["ratio"] == pytest.approx(result["package_peak_rss_mb"] / result["seed_peak_rss_mb"],
                                            abs=1e-3)


def test_committed_data_memory_result_meets_the_target():
    result = json.loads((ROOT / "benchmarks/results/data_memory.json").read_text())
    assert result["image_shape"] == [250, 250] and result["subsets"] == ["train", "test"]
    assert result["ratio"] <= 0.25
