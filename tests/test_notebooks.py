"""Checks on the committed notebooks (nbmake executes them separately)."""

import json
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks under {BOOK}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = json.loads(path.read_text())
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_installs_on_colab_and_reports_the_profile(path):
    nb = json.loads(path.read_text())
    first = next("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "google.colab" in first and "pip install" in first
    assert "show_environment" in first
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


def test_ci_leaves_the_notebooks_their_inline_figures():
    # MPLBACKEND=Agg in CI's environment made every chapter execute without a single figure.
    ci = (BOOK.parent / ".ci" / "run").read_text()
    assert "export MPLBACKEND" not in ci and "unset MPLBACKEND" in ci
