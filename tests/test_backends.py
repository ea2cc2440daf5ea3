"""The package on Keras's JAX backend, without TensorFlow.

The GPU machines this project is measured on have JAX but no TensorFlow, so the
models, losses, training loops and NumPy pipelines must run there. This test
runs a tiny training of each kind in a subprocess with ``KERAS_BACKEND=jax``
and TensorFlow made unimportable.
"""

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("jax", reason="the JAX backend test needs jax (pip install -e .[test])")

SCRIPT = textwrap.dedent("""
    import sys

    class NoTensorFlow:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "tensorflow":
                raise ImportError("TensorFlow is blocked in this test")

    sys.meta_path.insert(0, NoTensorFlow())

    import numpy as np
    import keras
    from siamese_lessons.course.ch04_contrastive import train_contrastive
    from siamese_lessons.course.ch05_triplet import train_triplet
    from siamese_lessons.augmentation import FACE_AUGMENTATION
    from siamese_lessons.training import train_pair_model
    from siamese_lessons.data import IdentitySet
    from siamese_lessons.evaluation import embedding_pair_scores
    from siamese_lessons.pairs import sample_pairs

    assert keras.backend.backend() == "jax"
    rng = np.random.default_rng(0)
    faces = IdentitySet(images=rng.integers(0, 256, (120, 24, 20), dtype=np.uint8),
                        labels=np.repeat(np.arange(30), 4), class_names=[f"p{i}" for i in range(30)])
    emb, fit = train_contrastive(faces, n_pairs=64, epochs=1, verbose=0)
    assert np.isfinite(fit.history["loss"]).all()
    emb, hist = train_triplet(faces, mining="batch_hard", pk=(4, 4), steps_per_epoch=3, epochs=2,
                                 verbose=0)
    assert len(hist) == 2 and np.isfinite(hist["loss"]).all()
    pairs = sample_pairs(faces, 40, seed=1)
    scores = embedding_pair_scores(emb, pairs)
    assert scores.shape == (40,) and np.isfinite(scores).all()
    run = train_pair_model(pairs, np.arange(30), np.arange(30, 40), tower="lfw_seed",
                              input_shape=(24, 20, 1), epochs=1, verbose=0,
                              augmentation=FACE_AUGMENTATION)
    assert 0 <= run.metrics["val_accuracy"] <= 1

    # Chapter 8's margin-softmax training, and chapter 1's full Siamese network with Koch's
    # distortions inside the model (keras.ops.image.affine_transform on JAX).
    import dataclasses

    from siamese_lessons.course import ch01_omniglot as ch01
    from siamese_lessons.course import ch08_margin_softmax as ch08
    from siamese_lessons.training import fit_pair_model

    margin_run = dataclasses.replace(ch08.SIZES["quick"], steps=4, batch_size=16, min_images=4)
    emb, hist = ch08.train(faces, margin_run, "arcface")
    assert np.isfinite(hist["loss"]).all()
    koch = dataclasses.replace(ch01.SIZES["full"].siamese,
                               tower_kwargs={**ch01.SIZES["full"].siamese.tower_kwargs, "width": 0.05})
    chars = IdentitySet(images=rng.integers(0, 256, (24, 105, 105), dtype=np.uint8),
                        labels=np.repeat(np.arange(6), 4), class_names=[f"c{i}" for i in range(6)])
    char_pairs = sample_pairs(chars, 24, seed=2)
    fit = fit_pair_model(ch01.build_siamese(koch), char_pairs, np.arange(16), np.arange(16, 24), epochs=1,
                         batch_size=8, verbose=0)
    assert np.isfinite(fit.history["loss"]).all()
    assert "tensorflow" not in sys.modules
    print("jax backend ok")
""")


def test_training_runs_on_the_jax_backend_without_tensorflow():
    # Compiled without XLA's backend optimisations: this checks that the code runs and learns on JAX,
    # not how fast, and most of its time is compiling many small programs once each.
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu",
               XLA_FLAGS=f"{os.environ.get('XLA_FLAGS', '')} --xla_backend_optimization_level=0".strip())
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "jax backend ok" in out.stdout
