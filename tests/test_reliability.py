"""Reliability: the same seed gives the same run, budgets and NaN guards stop training.

The training-determinism test runs in its own process with TensorFlow's op
determinism switched on (deterministic kernels, as a reader reproducing a number
would run), since that switch cannot be turned off again.
"""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from siamese_lessons.course.ch04_contrastive import train_contrastive
from siamese_lessons.course.ch05_triplet import train_triplet
from siamese_lessons.data import IdentitySet
from siamese_lessons.pairs import pk_batches, sample_pairs


def _faces(seed=0):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(6), 6)
    base = rng.integers(0, 256, (6, 12, 12))
    images = np.clip(base[labels] + rng.normal(0, 20, (36, 12, 12)), 0, 255).astype(np.uint8)
    return IdentitySet(images=images, labels=labels, class_names=[f"p{i}" for i in range(6)])


def test_same_seed_same_pairs_and_batches_different_seed_different():
    faces = _faces()
    a, b, c = (sample_pairs(faces, 40, seed=s) for s in (3, 3, 4))
    np.testing.assert_array_equal(a.pairs, b.pairs)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert not np.array_equal(a.pairs, c.pairs)
    np.testing.assert_array_equal(pk_batches(faces, 3, 2, 5, seed=1), pk_batches(faces, 3, 2, 5, seed=1))
    assert not np.array_equal(pk_batches(faces, 3, 2, 5, seed=1), pk_batches(faces, 3, 2, 5, seed=2))


DETERMINISM = textwrap.dedent("""
    import json
    import numpy as np
    from siamese_lessons._tf import tensorflow
    from siamese_lessons.data import IdentitySet
    from siamese_lessons.course.ch04_contrastive import train_contrastive
    from siamese_lessons.course.ch05_triplet import train_triplet

    tensorflow().config.experimental.enable_op_determinism()
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(6), 6)
    base = rng.integers(0, 256, (6, 12, 12))
    images = np.clip(base[labels] + rng.normal(0, 20, (36, 12, 12)), 0, 255).astype(np.uint8)
    faces = IdentitySet(images=images, labels=labels, class_names=[f"p{i}" for i in range(6)])

    def run(seed):
        _, hist = train_triplet(faces, mining="batch_hard", pk=(3, 4), steps_per_epoch=4, epochs=2,
                                seed=seed, verbose=0)
        _, fit = train_contrastive(faces, n_pairs=48, epochs=2, batch_size=16, seed=seed, verbose=0)
        return hist["loss"].tolist() + fit.history["val_loss"].tolist()

    print(json.dumps([run(0), run(0), run(1)]))
""")


def test_same_seed_same_training_metrics_different_seed_different():
    out = subprocess.run([sys.executable, "-c", DETERMINISM], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    first, again, other = json.loads(out.stdout.strip().splitlines()[-1])
    assert first == again  # bit for bit
    assert not np.allclose(first, other)


def test_triplet_training_stops_at_its_time_budget():
    _, hist = train_triplet(_faces(), mining="semi_hard", pk=(3, 2), steps_per_epoch=50, epochs=5,
                            max_seconds=0.0, verbose=0)
    assert len(hist) == 1  # stopped after the first batch of the first epoch


def test_nan_loss_stops_training_with_a_message():
    faces = _faces()
    with pytest.raises(FloatingPointError, match="NaN"):
        train_contrastive(faces, n_pairs=48, epochs=3, batch_size=16, learning_rate=float("nan"), verbose=0)


@pytest.mark.parametrize("load", ["lfw_pairs", "lfw_people", "olivetti", "omniglot"])
def test_every_loader_refuses_to_download_when_offline(load, tmp_path, monkeypatch):
    """CI and the notebook runs set SIAMESE_LESSONS_OFFLINE=1: a loader that would
    reach the network raises instead, naming the variable to set."""
    from siamese_lessons.data import load_lfw_pairs, load_lfw_people, load_olivetti, load_omniglot
    from siamese_lessons.errors import DatasetNotFoundError

    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    calls = {"lfw_pairs": lambda: load_lfw_pairs("train"), "lfw_people": load_lfw_people,
             "olivetti": load_olivetti, "omniglot": lambda: load_omniglot("background_small")}
    with pytest.raises(DatasetNotFoundError, match="(?i)download") as err:
        calls[load]()
    assert str(tmp_path) in str(err.value)


def test_ci_and_make_run_everything_offline():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    assert "SIAMESE_LESSONS_OFFLINE=1" in (root / ".ci/run").read_text()
    assert "SIAMESE_LESSONS_OFFLINE ?= 1" in (root / "Makefile").read_text()


def test_identities_without_a_second_image_cannot_give_positives():
    singles = IdentitySet(images=np.zeros((4, 8, 8), np.uint8), labels=[0, 1, 2, 3], class_names=list("abcd"))
    with pytest.raises(ValueError, match="two or more images"):
        sample_pairs(singles, 4)
    with pytest.raises(ValueError, match="two or more images"):
        pk_batches(singles, 2, 2, 3)


def test_wrong_dtype_or_shape_reaches_no_model():
    from siamese_lessons.datasets import identity_batch_dataset
    from siamese_lessons.evaluation import embed_images
    from siamese_lessons.models import improved_tower

    tower = improved_tower((16, 16, 1), filters=(4,), embedding_dim=4, seed=0)
    with pytest.raises(TypeError, match="uint8"):
        embed_images(tower, np.zeros((2, 16, 16), np.float32))
    with pytest.raises(ValueError, match=r"\(12, 12, 1\).*\(16, 16, 1\)"):
        embed_images(tower, np.zeros((2, 12, 12), np.uint8))
    with pytest.raises(TypeError, match="uint8"):
        identity_batch_dataset(np.zeros((2, 4, 4), np.float32), np.arange(2), [[0, 1]])


def test_unknown_names_list_the_valid_ones():
    from siamese_lessons.course.ch06_protocol import SIZES, view2_method
    from siamese_lessons.layers import distance_layer
    from siamese_lessons.models import build_tower

    with pytest.raises(ValueError, match="semi_hard"):
        train_triplet(_faces(), mining="hardest", pk=(2, 2), steps_per_epoch=1, epochs=1)
    with pytest.raises(ValueError, match="triplet"):
        view2_method("arcface", SIZES["quick"].budget)
    with pytest.raises(ValueError, match="improved"):
        build_tower("resnet", (16, 16, 1))
    with pytest.raises(ValueError, match="cosine"):
        distance_layer("hamming")
