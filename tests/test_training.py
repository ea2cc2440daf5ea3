"""siamese_lessons.training: splits, fitting with the best validation epoch, slices, margin softmax."""

import numpy as np
import pytest

from siamese_lessons._tf import keras as _keras
from siamese_lessons.data import PairSet
from siamese_lessons.evaluation import (
    accuracy_at,
    pair_scores,
)
from siamese_lessons.models import lfw_seed_tower, siamese_pair_model
from siamese_lessons.training import (
    KeepBest,
    compile_model,
    compile_pair_model,
    fit_pair_model,
    split_validation,
)

keras = _keras()


def _toy_pairs(n=64, seed=0):
    """Bright and dark 8x8 images: same pair = same brightness class."""
    rng = np.random.default_rng(seed)
    bright = rng.integers(180, 256, (8, 8, 8), dtype=np.uint8)
    dark = rng.integers(0, 70, (8, 8, 8), dtype=np.uint8)
    images = np.concatenate([bright, dark])
    ident = ["bright"] * 8 + ["dark"] * 8
    pairs, labels = [], []
    for k in range(n):
        a = rng.integers(16)
        same = k % 2 == 0
        pool = [i for i in range(16) if (ident[i] == ident[a]) == same and i != a]
        pairs.append([a, rng.choice(pool)])
        labels.append(int(same))
    return PairSet(images=images, pairs=pairs, labels=labels, identities=ident,
                   paths=[str(i) for i in range(16)])


def test_split_validation_is_balanced_disjoint_and_seeded():
    ps = _toy_pairs(40)
    tr, va = split_validation(ps, 10, seed=1)
    assert len(va) == 10 and ps.labels[va].sum() == 5
    assert not set(tr) & set(va) and len(tr) + len(va) == 40
    np.testing.assert_array_equal(va, split_validation(ps, 10, seed=1)[1])
    np.testing.assert_array_equal(va, split_validation(ps.labels, 10, seed=1)[1])  # labels alone
    with pytest.raises(ValueError):
        split_validation(ps, 40)


def test_keep_best_refuses_to_select_on_training_or_test_metrics():
    with pytest.raises(ValueError, match="validation"):
        KeepBest("test_accuracy")
    with pytest.raises(ValueError, match="validation"):
        KeepBest("loss")


def _regression(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((4,))
    glorot = keras.initializers.GlorotUniform
    hidden = keras.layers.Dense(8, activation="relu", kernel_initializer=glorot(seed))
    out = keras.layers.Dense(1, kernel_initializer=glorot(seed + 1))
    return keras.Model(inputs, out(hidden(inputs)))


def test_compile_model_builds_the_optimizer_first_and_trains_as_keras_does():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = x @ np.array([1.0, -2.0, 0.5, 3.0], dtype="float32")
    reference = _regression()  # Keras's own path: the optimizer is built inside the first step
    reference.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    model = _regression()
    compile_model(model, optimizer=keras.optimizers.Adam(0.05), loss="mse",
                  metrics=[keras.metrics.MeanAbsoluteError(name="mae")])
    assert model.optimizer.built and not reference.optimizer.built
    moments = [tuple(v.shape) for v in model.optimizer.variables if len(v.shape)]  # not the step counter
    assert moments == [tuple(w.shape) for w in model.trainable_variables for _ in "mv"]  # Adam's 2 moments
    traces = []
    step = model.train_step
    model.train_step = lambda data: (traces.append(1), step(data))[1]
    reference.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    history = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    if keras.backend.backend() == "tensorflow":
        assert len(traces) == 1  # Keras's path traces the first step twice on this backend
    for got, want in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    assert history.history["loss"][-1] < history.history["loss"][0] and "mae" in history.history


def test_compile_model_leaves_an_unbuilt_model_to_keras_and_refuses_optimizer_names():
    model = keras.Sequential([keras.layers.Dense(1)])  # no input shape: nothing to build yet
    compile_model(model, optimizer=keras.optimizers.SGD(0.1), loss="mse")
    assert not model.optimizer.built
    model.fit(np.ones((8, 3), "float32"), np.ones(8, "float32"), verbose=0)
    assert model.optimizer.built
    with pytest.raises(TypeError, match="Optimizer instance"):
        compile_model(_regression(), optimizer="adam", loss="mse")


def test_fit_learns_a_toy_task_and_keeps_the_best_validation_epoch():
    ps = _toy_pairs(96)
    tr, va = split_validation(ps, 32, seed=0)
    model = siamese_pair_model(lfw_seed_tower((8, 8, 1), conv_blocks=1, filters=4, dense_units=8,
                                              dropout=0.0, seed=0), seed=0)
    compile_pair_model(model, learning_rate=0.02)
    result = fit_pair_model(model, ps, tr, va, epochs=8, batch_size=16, seed=0, verbose=0,
                            extra_eval={"test": (ps, va)})
    h = result.history
    assert list(h["epoch"]) == list(range(1, 9)) and "test_accuracy" in h
    assert result.best_epoch == int(h["epoch"][h["val_loss"].idxmin()])
    scores = pair_scores(model, ps, va)
    # The kept weights are the best epoch's: re-scoring reproduces its validation loss.
    y = ps.labels[va]
    bce = -np.mean(y * np.log(np.clip(scores, 1e-7, 1)) + (1 - y) * np.log(np.clip(1 - scores, 1e-7, 1)))
    assert bce == pytest.approx(h["val_loss"].min(), abs=0.02)
    assert accuracy_at(scores, y, 0.5) >= 0.9


def test_fit_slice_measures_the_data_term_apart_from_the_penalty():
    from siamese_lessons.training import fit_slice

    ps = _toy_pairs(16)
    model = siamese_pair_model(lfw_seed_tower((8, 8, 1), conv_blocks=1, filters=4, dense_units=8, l2=0.5,
                                              seed=0), seed=0)
    compile_pair_model(model, learning_rate=1e-2)
    # "inference" measures as predict does (this tower has dropout, which training mode would sample).
    frame = fit_slice(model, ps, steps=30, batch_size=8, every=10, mode="inference")
    assert frame["step"].tolist() == [0, 10, 20, 30]
    # The penalty is what the regularisers add: 0.5 * sum of squared kernels, checked by hand.
    kernels = [layer.kernel.numpy() for layer in model.get_layer("tower").layers if hasattr(layer, "kernel")]
    assert frame["penalty"].iloc[-1] == pytest.approx(0.5 * sum(float((k ** 2).sum()) for k in kernels),
                                                      rel=1e-4)
    left, right, y = ps.batch(np.arange(len(ps)))
    p = np.clip(model.predict([left, right], verbose=0).ravel(), 1e-7, 1 - 1e-7)
    bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert frame["data_loss"].iloc[-1] == pytest.approx(bce, rel=1e-3)
    assert frame["accuracy"].iloc[-1] == np.mean((p >= 0.5) == (y == 1))
    # AUC by hand: the share of (same, different) pairs ranked right, ties counting one half.
    same, diff = p[y == 1], p[y == 0]
    by_hand = np.mean((same[:, None] > diff[None, :]) + 0.5 * (same[:, None] == diff[None, :]))
    assert frame["auc"].iloc[-1] == pytest.approx(by_hand)
    with pytest.raises(ValueError, match="positive"):
        fit_slice(model, ps, steps=0, batch_size=8)
    with pytest.raises(ValueError, match="distance"):
        fit_slice(model, ps, steps=1, batch_size=8, output="logit")


def test_fit_identity_slice_measures_loss_and_auc_and_leaves_moving_averages_alone():
    from siamese_lessons.losses import BatchHardTripletLoss
    from siamese_lessons.models import embedding_model, improved_tower
    from siamese_lessons.training import fit_identity_slice

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (8, 8, 8), dtype=np.uint8)
    labels = np.repeat([0, 1, 2, 3], 2)
    x = images[..., None]  # stored pixels: the tower rescales inside

    def build():
        keras.utils.set_random_seed(0)
        emb = embedding_model(improved_tower((8, 8, 1), filters=(4,), convs_per_block=1, embedding_dim=4,
                                             seed=0), dim=4, seed=0)
        emb.compile(optimizer=keras.optimizers.SGD(1e-2), loss=BatchHardTripletLoss(margin=0.2))
        return emb

    measured, plain = build(), build()
    e = np.asarray(plain(x, training=True)).astype(np.float64)  # the first measurement, by hand
    plain = build()
    frame = fit_identity_slice(measured, images, labels, steps=1, every=1)
    plain.train_on_batch(x, labels)
    # Measuring in training mode (twice here) left the batch-norm moving averages as one step leaves them.
    for a, b in zip(measured.non_trainable_variables, plain.non_trainable_variables, strict=True):
        np.testing.assert_allclose(np.array(a), np.array(b), rtol=1e-6)
    # Row 0 is batch-hard's loss of the untrained embeddings, computed here by hand.
    d = np.sqrt(((e[:, None] - e[None]) ** 2).sum(-1))
    same = labels[:, None] == labels[None, :]
    hardest_pos = np.where(same & ~np.eye(8, dtype=bool), d, 0).max(1)
    hardest_neg = np.where(~same, d, np.inf).min(1)
    by_hand = np.maximum(hardest_pos - hardest_neg + 0.2, 0).mean()
    assert frame["step"].tolist() == [0, 1]
    assert frame["data_loss"].iloc[0] == pytest.approx(by_hand, rel=1e-4, abs=1e-6)
    iu = np.triu_indices(8, k=1)
    pos, neg = -d[iu][same[iu]], -d[iu][~same[iu]]  # closer = more alike
    auc = np.mean((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :]))
    assert frame["auc"].iloc[0] == pytest.approx(auc)
    with pytest.raises(ValueError, match="two identities"):
        fit_identity_slice(measured, images[:2], [0, 0], steps=1)


def test_fit_pair_model_refuses_bad_epochs_float_indices_and_overlap():
    ps = _toy_pairs(16)
    model = siamese_pair_model(lfw_seed_tower((8, 8, 1), conv_blocks=1, filters=2, dense_units=4, seed=0))
    compile_pair_model(model)
    with pytest.raises(ValueError, match="epochs"):  # used to train nothing and blame a NaN loss
        fit_pair_model(model, ps, np.arange(8), np.arange(8, 16), epochs=0)
    with pytest.raises(TypeError, match="integers"):
        fit_pair_model(model, ps, np.arange(8) + 0.7, np.arange(8, 16), epochs=1)
    with pytest.raises(ValueError, match="both train_index and validation_index"):
        fit_pair_model(model, ps, np.arange(10), np.arange(8, 16), epochs=1)
    with pytest.raises(ValueError, match=r"in \[0, 16\)"):
        fit_pair_model(model, ps, np.arange(8), np.array([8, 99]), epochs=1)


def test_fit_margin_softmax_learns_separable_classes_and_checks_its_input():
    from siamese_lessons.models import embedding_model, improved_tower
    from siamese_lessons.training import fit_margin_softmax

    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (4, 8, 8))
    labels = np.repeat(np.arange(4), 8)
    images = np.clip(base[labels] + rng.normal(0, 10, (32, 8, 8)), 0, 255).astype(np.uint8)
    keras.utils.set_random_seed(0)
    emb = embedding_model(improved_tower((8, 8, 1), filters=(16,), convs_per_block=1, embedding_dim=8,
                                         dropout=0.0, seed=0), dim=8, seed=0)
    batches = np.stack([rng.permutation(32)[:16] for _ in range(150)])
    classifier, history = fit_margin_softmax(emb, images, labels, batches, epochs=3, learning_rate=1e-2,
                                             scale=10.0, margin=0.1)
    assert len(history) == 3 and history["accuracy"].iloc[-1] >= 0.9, history
    assert history["loss"].iloc[-1] < history["loss"].iloc[0] and history.attrs["seconds"] > 0
    assert classifier.layers[0] is emb  # the embedder was trained in place
    with pytest.raises(ValueError, match="multiple of epochs"):
        fit_margin_softmax(emb, images, labels, batches[:7], epochs=3, learning_rate=1e-3)
    with pytest.raises(ValueError, match="one entry per image"):
        fit_margin_softmax(emb, images, labels[:5], batches, epochs=3, learning_rate=1e-3)
    with pytest.raises(ValueError, match="integer classes"):
        fit_margin_softmax(emb, images, labels - 1, batches, epochs=3, learning_rate=1e-3)


def test_fit_identity_slice_measures_a_heads_loss_when_given_the_trained_model():
    from siamese_lessons.layers import CosineClassifier
    from siamese_lessons.losses import MarginSoftmaxLoss
    from siamese_lessons.models import embedding_model, improved_tower
    from siamese_lessons.training import fit_identity_slice

    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (8, 8, 8), dtype=np.uint8)
    labels = np.repeat([0, 1, 2, 3], 2)
    keras.utils.set_random_seed(0)
    emb = embedding_model(improved_tower((8, 8, 1), filters=(4,), convs_per_block=1, embedding_dim=4,
                                         dropout=0.0, seed=0), dim=4, seed=0)  # no dropout: one answer
    head = keras.Sequential([emb, CosineClassifier(4, seed=0)])
    head.compile(optimizer=keras.optimizers.SGD(1e-2), loss=MarginSoftmaxLoss(scale=10.0, margin=0.2))
    x = images[..., None]  # stored pixels: the tower rescales inside
    e = np.asarray(emb(x, training=True), np.float64)
    w = np.asarray(head.layers[-1].weights[0], np.float64)
    cos = (e / np.linalg.norm(e, axis=1, keepdims=True)) @ (w / np.linalg.norm(w, axis=0, keepdims=True))
    logits = 10.0 * (cos - 0.2 * np.eye(4)[labels])  # CosFace, by hand
    by_hand = np.mean(np.log(np.exp(logits).sum(1)) - logits[np.arange(8), labels])
    frame = fit_identity_slice(emb, images, labels, steps=2, every=1, train_model=head)
    assert frame["data_loss"].iloc[0] == pytest.approx(by_hand, rel=1e-4)
    assert frame["step"].tolist() == [0, 1, 2]
