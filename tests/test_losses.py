"""Losses against plain numpy loop references (independent of the vectorised code)."""

import functools
import itertools

import numpy as np
import pytest

from siamese_lessons._tf import tensorflow
from siamese_lessons.losses import (
    BatchHardTripletLoss,
    ContrastiveLoss,
    batch_all_triplet_loss,
    batch_hard_triplet_loss,
    contrastive_loss,
    pairwise_distances,
    semi_hard_triplet_loss,
    triplet_loss,
)

tf = tensorflow()


def _d(a, b, squared=False):
    s = float(np.sum((a - b) ** 2))
    return s if squared else np.sqrt(s)


def ref_batch_all(labels, emb, margin, squared=False):
    losses = []
    for a, p, n in itertools.permutations(range(len(labels)), 3):
        if labels[a] == labels[p] and labels[n] != labels[a]:
            losses.append(max(_d(emb[a], emb[p], squared) - _d(emb[a], emb[n], squared) + margin, 0.0))
    positive = [v for v in losses if v > 1e-16]
    return sum(positive) / max(len(positive), 1)


def ref_batch_hard(labels, emb, margin, squared=False):
    out = []
    for a in range(len(labels)):
        pos = [_d(emb[a], emb[p], squared) for p in range(len(labels)) if p != a and labels[p] == labels[a]]
        neg = [_d(emb[a], emb[n], squared) for n in range(len(labels)) if labels[n] != labels[a]]
        if pos and neg:
            out.append(max(max(pos) - min(neg) + margin, 0.0))
    return sum(out) / max(len(out), 1)


def ref_semi_hard_tfa(labels, emb, margin, squared=False):
    """TensorFlow Addons: closest negative farther than the positive, else the farthest negative."""
    out = []
    for a in range(len(labels)):
        neg = [_d(emb[a], emb[n], squared) for n in range(len(labels)) if labels[n] != labels[a]]
        if not neg:
            continue
        for p in range(len(labels)):
            if p == a or labels[p] != labels[a]:
                continue
            dap = _d(emb[a], emb[p], squared)
            farther = [v for v in neg if v > dap]
            dan = min(farther) if farther else max(neg)
            out.append(max(dap - dan + margin, 0.0))
    return sum(out) / max(len(out), 1)


def ref_semi_hard(labels, emb, margin, squared=False):
    """FaceNet: d(a,p) < d(a,n) < d(a,p) + margin; pairs without such a negative are left out."""
    out = []
    for a, p in itertools.permutations(range(len(labels)), 2):
        if labels[p] != labels[a]:
            continue
        dap = _d(emb[a], emb[p], squared)
        band = [_d(emb[a], emb[n], squared) for n in range(len(labels))
                if labels[n] != labels[a] and dap < _d(emb[a], emb[n], squared) < dap + margin]
        if band:
            out.append(dap - min(band) + margin)
    return sum(out) / max(len(out), 1)


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    labels = np.array([0, 0, 1, 1, 1, 2, 2, 3])
    emb = rng.normal(size=(8, 5)).astype(np.float32)
    return labels, emb


def test_contrastive_hand_values_and_label_convention():
    # same pair at distance 0.5 -> 0.25; different pair at 0.3 with margin 1 -> 0.7^2 = 0.49;
    # different pair at 1.5 -> 0.
    loss = contrastive_loss(np.array([1, 0, 0]), np.array([0.5, 0.3, 1.5]), margin=1.0)
    assert float(loss) == pytest.approx((0.25 + 0.49 + 0.0) / 3, rel=1e-6)
    # Inverting the labels (the common mistake) rewards pulling impostors together.
    inverted = contrastive_loss(np.array([0, 1, 1]), np.array([0.5, 0.3, 1.5]), margin=1.0)
    assert float(inverted) == pytest.approx((0.25 + 0.09 + 2.25) / 3, rel=1e-6)
    assert float(ContrastiveLoss(margin=1.0)(np.array([[1.0]]), np.array([[2.0]]))) == pytest.approx(4.0)


def test_triplet_loss_hand_value():
    a = np.array([[0.0, 0.0]])
    p = np.array([[3.0, 4.0]])  # d = 5
    n = np.array([[0.0, 6.0]])  # d = 6
    assert float(triplet_loss(a, p, n, margin=2.0)) == pytest.approx(1.0)
    assert float(triplet_loss(a, p, n, margin=0.5)) == 0.0
    assert float(triplet_loss(a, p, n, margin=2.0, squared=True)) == pytest.approx(max(25 - 36 + 2, 0))


def test_pairwise_distances(batch):
    _, emb = batch
    d = pairwise_distances(emb).numpy()
    ref = np.sqrt(((emb[:, None] - emb[None]) ** 2).sum(-1))
    np.testing.assert_allclose(d, ref, atol=1e-5)
    np.testing.assert_allclose(pairwise_distances(emb, squared=True).numpy(), ref**2, atol=1e-4)
    assert np.all(np.diag(d) == 0)


@pytest.mark.parametrize("squared", [False, True])
@pytest.mark.parametrize("margin", [0.2, 1.5])
def test_mined_losses_match_loop_references(batch, margin, squared):
    labels, emb = batch
    tfa = functools.partial(semi_hard_triplet_loss, fallback="farthest")
    tfa.__name__ = "semi_hard_tfa"
    for fn, ref in [(batch_all_triplet_loss, ref_batch_all), (batch_hard_triplet_loss, ref_batch_hard),
                    (semi_hard_triplet_loss, ref_semi_hard), (tfa, ref_semi_hard_tfa)]:
        got = float(fn(labels, emb, margin, squared))
        assert got == pytest.approx(ref(labels, emb, margin, squared), rel=1e-4, abs=1e-5), fn.__name__


def test_semi_hard_is_facenets_band_and_the_fallback_is_named_separately():
    # One anchor at 0 with a positive at 1 on a line; negatives at 0.5 (hard), 1.1 (semi-hard), 3 (easy).
    emb = np.array([[0.0], [1.0], [0.5], [1.1], [3.0]], np.float32)
    labels = np.array([0, 0, 1, 2, 3])
    # Anchor 0: band (1, 1.2) holds 1.1 -> 1 - 1.1 + 0.2 = 0.1. Anchor 1 (positive 0, d = 1): negatives
    # at 0.5, 0.1, 2 -> band (1, 1.2) is empty: left out. Mean over the one pair with a band negative.
    assert float(semi_hard_triplet_loss(labels, emb, 0.2)) == pytest.approx(0.1, abs=1e-6)
    # TF Addons: anchor 1 has a negative farther than 1 (at 2): loss 0; the mean is over both pairs.
    tfa = float(semi_hard_triplet_loss(labels, emb, 0.2, fallback="farthest"))
    assert tfa == pytest.approx(0.05, abs=1e-6)
    # Nothing farther than the positive: FaceNet gives 0, TF Addons the farthest negative.
    near = np.array([[0.0], [1.0], [0.5]], np.float32)
    lab = np.array([0, 0, 1])
    assert float(semi_hard_triplet_loss(lab, near, 0.2)) == 0.0
    # TF Addons: anchor 0: farthest negative 0.5 -> 1 - 0.5 + 0.2 = 0.7; anchor 1: 0.5 -> 0.7.
    assert float(semi_hard_triplet_loss(lab, near, 0.2, fallback="farthest")) == pytest.approx(0.7, abs=1e-6)
    with pytest.raises(ValueError, match="fallback"):
        semi_hard_triplet_loss(lab, near, 0.2, fallback="random")


def test_batches_without_valid_triplets_give_zero_not_nan():
    emb = np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32)
    for labels in (np.array([0, 1, 2, 3]), np.array([5, 5, 5, 5])):  # no positive / no negative
        for fn in (batch_all_triplet_loss, batch_hard_triplet_loss, semi_hard_triplet_loss):
            assert float(fn(labels, emb, 0.2)) == 0.0


def test_gradients_are_finite_for_identical_embeddings():
    labels = np.array([0, 0, 1, 1])
    emb = tf.Variable(np.ones((4, 3), np.float32))  # all distances 0: sqrt's gradient is the trap
    for fn in (batch_all_triplet_loss, batch_hard_triplet_loss, semi_hard_triplet_loss):
        with tf.GradientTape() as tape:
            loss = fn(labels, emb, 0.2)
        grad = tape.gradient(loss, emb)
        assert np.isfinite(float(loss)) and np.all(np.isfinite(grad.numpy())), fn.__name__


def test_keras_loss_wrappers_serialise():
    from siamese_lessons._tf import keras

    loss = BatchHardTripletLoss(margin=0.3)
    clone = keras().losses.deserialize(keras().losses.serialize(loss))
    assert clone.margin == 0.3 and type(clone) is BatchHardTripletLoss
    labels, emb = np.array([0, 0, 1, 1]), np.eye(4, dtype=np.float32)
    assert float(loss(labels, emb)) == pytest.approx(ref_batch_hard(labels, emb, 0.3), rel=1e-5)


def test_margin_softmax_against_hand_values():
    from siamese_lessons.losses import MarginSoftmaxLoss, margin_softmax_loss

    cos = np.array([[0.8, 0.6, -0.2]], np.float32)
    y = np.array([0])

    def ce(logits, k):
        return np.log(np.sum(np.exp(logits))) - logits[k]

    s = 10.0
    normface = ce(s * np.array([0.8, 0.6, -0.2]), 0)
    cosface = ce(s * np.array([0.8 - 0.35, 0.6, -0.2]), 0)
    arcface = ce(s * np.array([np.cos(np.arccos(0.8) + 0.5), 0.6, -0.2]), 0)
    assert float(margin_softmax_loss(y, cos, scale=s)) == pytest.approx(normface, rel=1e-5)
    assert float(margin_softmax_loss(y, cos, scale=s, margin=0.35)) == pytest.approx(cosface, rel=1e-5)
    assert float(margin_softmax_loss(y, cos, scale=s, margin=0.5, kind="arcface")) == pytest.approx(
        arcface, rel=1e-5)
    # (batch, 1) labels and the Keras wrapper give the same; the margin only touches the true class.
    loss = MarginSoftmaxLoss(scale=s, margin=0.35)
    assert float(loss(y[:, None], cos)) == pytest.approx(cosface, rel=1e-5)
    other = ce(s * np.array([0.8, 0.6 - 0.35, -0.2]), 1)
    assert float(loss(np.array([1]), cos)) == pytest.approx(other, rel=1e-5)
    with pytest.raises(ValueError, match="sphereface"):
        MarginSoftmaxLoss(kind="sphereface")
    with pytest.raises(ValueError, match="scale"):
        MarginSoftmaxLoss(scale=0)
