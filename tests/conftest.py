"""Fixtures shared by the tests.

Tests that need a real dataset find it through the standard cache variables
(``SCIKIT_LEARN_DATA``, ``KERAS_HOME``; ``make test`` points them at a scratch
copy of the staged data). When the data is missing they are skipped on a
developer's machine but *fail* when ``CI`` is set. Every test runs offline: a
loader that would download raises instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from PIL import Image

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("SIAMESE_LESSONS_OFFLINE", "1")


def _require(path: Path, what: str, variable: str) -> None:
    if path.exists():
        return
    message = (f"{what} not found at {path}: set {variable} (make test stages a scratch copy "
               "of ../shared/data)")
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def lfw_data_home() -> Path:
    from siamese_lessons.data import lfw_home

    home = lfw_home()
    _require(home / "pairsDevTrain.txt", "LFW", "SCIKIT_LEARN_DATA")
    _require(home / "lfw_funneled", "LFW images", "SCIKIT_LEARN_DATA")
    return home.parent


@pytest.fixture(scope="session")
def omniglot_home() -> Path:
    from siamese_lessons.data._common import keras_home

    home = keras_home()
    for name in ("images_background_small1.zip", "images_background_small2.zip", "all_runs.zip"):
        _require(home / "datasets" / name, "Omniglot", "KERAS_HOME")
    return home


@pytest.fixture(scope="session")
def olivetti_home() -> Path:
    from siamese_lessons.data import lfw_home

    data_home = lfw_home().parent
    _require(data_home / "olivetti_py3.pkz", "Olivetti faces", "SCIKIT_LEARN_DATA")
    return data_home


@pytest.fixture(scope="session")
def att_faces() -> Path:
    root = Path(os.environ.get("ATT_FACES", Path(__file__).resolve().parents[2] / "shared/data/att_faces"))
    _require(root / "s1", "AT&T faces", "ATT_FACES")
    return root


def write_image(path: Path, array: np.ndarray, fmt: str | None = None) -> Path:
    """Write a uint8 array as an image file (helper for tiny fake datasets)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(array, dtype=np.uint8)).save(path, format=fmt)
    return path


@pytest.fixture
def fake_lfw(tmp_path) -> Path:
    """A tiny LFW-shaped data home: 3 people, PNG-coded lossless "JPEGs", 3 pair files."""
    home = tmp_path / "lfw_home"
    rng = np.random.default_rng(0)
    people = {"Ann_A": 2, "Bob_B": 1, "Cy_C": 2}
    for name, n in people.items():
        for k in range(1, n + 1):
            write_image(home / "lfw_funneled" / name / f"{name}_{k:04d}.jpg",
                        rng.integers(0, 256, (250, 250, 3)), fmt="PNG")
    view1 = "1\nAnn_A\t1\t2\nAnn_A\t1\tBob_B\t1\n"
    (home / "pairsDevTrain.txt").write_text(view1)
    (home / "pairsDevTest.txt").write_text("1\nCy_C\t1\t2\nCy_C\t2\tBob_B\t1\n")
    (home / "pairs.txt").write_text("2\t1\nAnn_A\t1\t2\nAnn_A\t2\tCy_C\t1\nCy_C\t1\t2\nBob_B\t1\tAnn_A\t1\n")
    return tmp_path
