"""Losses on distances and embeddings, with the package's label convention
(``1`` = same identity, ``0`` = different).

- :func:`contrastive_loss`: ``y * d^2 + (1 - y) * max(margin - d, 0)^2`` (Hadsell et al.
  2006 write it with Y = 0 for *similar* pairs; here 1 means same, as everywhere
  in the package: swapping the convention pulls impostors together).
- :func:`triplet_loss`: ``max(d(a, p) - d(a, n) + margin, 0)`` on given triplets.
- Online mining inside a batch of labelled embeddings: :func:`batch_all_triplet_loss`,
  :func:`batch_hard_triplet_loss`, :func:`semi_hard_triplet_loss`.
- Margin softmax on class cosines (:class:`~siamese_lessons.layers.CosineClassifier`):
  :func:`margin_softmax_loss` covers the normalised softmax (NormFace, no margin),
  CosFace (``cos - m``) and ArcFace (``cos(theta + m)``).

Distances are Euclidean unless ``squared=True``. A batch without any valid
triplet (no two images of one identity, or a single identity) gives a loss of 0
and no gradient rather than NaN.
"""

from __future__ import annotations

from ._tf import keras as _keras

keras = _keras()
ops = keras.ops

__all__ = [
    "BatchAllTripletLoss",
    "BatchHardTripletLoss",
    "ContrastiveLoss",
    "MARGINS",
    "MINERS",
    "MarginSoftmaxLoss",
    "SEMI_HARD_FALLBACKS",
    "SemiHardTripletLoss",
    "batch_all_triplet_loss",
    "batch_hard_triplet_loss",
    "contrastive_loss",
    "margin_softmax_loss",
    "mined_triplet_loss",
    "pairwise_distances",
    "semi_hard_triplet_loss",
    "triplet_loss",
]

_PACKAGE = "siamese_lessons"


def contrastive_loss(labels, distances, margin: float = 1.0):
    """Mean contrastive loss ``y d^2 + (1 - y) max(margin - d, 0)^2``.

    Parameters
    ----------
    labels : tensor (batch,) or (batch, 1)
        1 = same identity, 0 = different.
    distances : tensor (batch,) or (batch, 1)
        Distances between the two embeddings of each pair (non-negative).
    margin : float
        Different pairs farther apart than ``margin`` cost nothing.
    """
    y = ops.reshape(ops.cast(labels, "float32"), (-1,))
    d = ops.reshape(ops.cast(distances, "float32"), (-1,))
    return ops.mean(y * ops.square(d) + (1.0 - y) * ops.square(ops.maximum(margin - d, 0.0)))


def _distance(a, b, squared: bool):
    sq = ops.sum(ops.square(a - b), axis=-1)
    return sq if squared else ops.sqrt(ops.maximum(sq, 1e-12))


def triplet_loss(anchor, positive, negative, margin: float = 0.2, squared: bool = False):
    """Mean ``max(d(a, p) - d(a, n) + margin, 0)`` over given triplets of embeddings."""
    return ops.mean(ops.maximum(_distance(anchor, positive, squared) - _distance(anchor, negative, squared)
                                + margin, 0.0))


def pairwise_distances(embeddings, squared: bool = False):
    """``(n, n)`` Euclidean (or squared) distances between all rows, 0 on the diagonal."""
    e = ops.cast(embeddings, "float32")
    sq = ops.sum(ops.square(e), axis=1)
    d2 = ops.maximum(sq[:, None] - 2.0 * ops.matmul(e, ops.transpose(e)) + sq[None, :], 0.0)
    n = ops.shape(e)[0]
    d2 = d2 * (1.0 - ops.eye(n))
    if squared:
        return d2
    # sqrt has an infinite gradient at 0: compute it only where d2 > 0.
    zero = ops.cast(ops.equal(d2, 0.0), "float32")
    return ops.sqrt(d2 + zero * 1e-16) * (1.0 - zero)


def _masks(labels):
    labels = ops.reshape(labels, (-1,))
    same = ops.equal(labels[:, None], labels[None, :])
    n = ops.shape(labels)[0]
    not_self = ops.logical_not(ops.cast(ops.eye(n), "bool"))
    positive = ops.logical_and(same, not_self)
    negative = ops.logical_not(same)
    return positive, negative


def batch_all_triplet_loss(labels, embeddings, margin: float = 0.2, squared: bool = False):
    """Mean loss over all valid triplets of the batch that have a positive loss.

    Valid: ``a != p``, ``label(a) == label(p)``, ``label(n) != label(a)``.
    Averaging only over the triplets that still violate the margin keeps the
    loss from vanishing as easy triplets pile up (Hermans et al. 2017).
    """
    d = pairwise_distances(embeddings, squared)
    positive, negative = _masks(labels)
    loss = d[:, :, None] - d[:, None, :] + margin  # [a, p, n]
    valid = ops.logical_and(positive[:, :, None], negative[:, None, :])
    loss = ops.maximum(loss, 0.0) * ops.cast(valid, "float32")
    n_positive = ops.sum(ops.cast(loss > 1e-16, "float32"))
    return ops.sum(loss) / ops.maximum(n_positive, 1.0)


def batch_hard_triplet_loss(labels, embeddings, margin: float = 0.2, squared: bool = False):
    """For each anchor, its farthest positive and closest negative (Hermans et al. 2017).

    Mean over anchors that have at least one positive and one negative in the batch.
    """
    d = pairwise_distances(embeddings, squared)
    positive, negative = _masks(labels)
    pos_f = ops.cast(positive, "float32")
    neg_f = ops.cast(negative, "float32")
    hardest_pos = ops.max(d * pos_f, axis=1)
    big = ops.max(d) + 1.0
    hardest_neg = ops.min(d + (1.0 - neg_f) * big, axis=1)
    valid = ops.cast(ops.logical_and(ops.any(positive, axis=1), ops.any(negative, axis=1)), "float32")
    loss = ops.maximum(hardest_pos - hardest_neg + margin, 0.0) * valid
    return ops.sum(loss) / ops.maximum(ops.sum(valid), 1.0)


#: What :func:`semi_hard_triplet_loss` does for a positive pair without a semi-hard negative.
SEMI_HARD_FALLBACKS = ("none", "farthest")


def semi_hard_triplet_loss(labels, embeddings, margin: float = 0.2, squared: bool = False,
                           fallback: str = "none"):
    """Semi-hard mining over every positive pair ``(a, p)`` of the batch.

    ``fallback="none"`` is FaceNet's definition (Schroff et al. 2015): a negative
    is *semi-hard* when ``d(a, p) < d(a, n) < d(a, p) + margin`` (farther than the
    positive, yet still inside the margin); each pair uses its closest semi-hard
    negative, and pairs that have none contribute nothing. The loss is the mean
    over the pairs that have one (0 when none has).

    ``fallback="farthest"`` is TensorFlow Addons' rule: each pair uses the closest
    negative farther than the positive, whatever its distance (beyond the margin
    it gives 0), and when no negative is farther, the anchor's *farthest*
    negative; the mean is over every positive pair whose anchor has a negative.
    """
    if fallback not in SEMI_HARD_FALLBACKS:
        raise ValueError(f"unknown fallback {fallback!r}; choose one of {list(SEMI_HARD_FALLBACKS)}")
    d = pairwise_distances(embeddings, squared)
    positive, negative = _masks(labels)
    neg_f = ops.cast(negative, "float32")
    big = ops.max(d) + margin + 1.0
    d_ap = d[:, :, None]  # [a, p, 1]
    d_an = d[:, None, :]  # [a, 1, n]
    farther = ops.logical_and(negative[:, None, :], d_an > d_ap)
    if fallback == "none":
        farther = ops.logical_and(farther, d_an < d_ap + margin)  # the semi-hard band
    closest = ops.min(ops.where(farther, ops.broadcast_to(d_an, ops.shape(farther)), big), axis=2)
    has_farther = ops.any(farther, axis=2)
    if fallback == "none":
        valid = ops.cast(ops.logical_and(positive, has_farther), "float32")
        chosen = closest
    else:
        farthest = ops.max(d * neg_f - (1.0 - neg_f), axis=1)[:, None]  # per anchor, -1 if no negative
        chosen = ops.where(has_farther, closest, ops.broadcast_to(farthest, ops.shape(closest)))
        valid = ops.cast(ops.logical_and(positive, ops.any(negative, axis=1)[:, None]), "float32")
    loss = ops.maximum(d - ops.where(valid > 0, chosen, d) + margin, 0.0) * valid
    return ops.sum(loss) / ops.maximum(ops.sum(valid), 1.0)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ContrastiveLoss(keras.losses.Loss):
    """Keras loss: ``y_true`` = labels (1 same), ``y_pred`` = pair distances."""

    def __init__(self, margin: float = 1.0, name: str = "contrastive", **kwargs):
        super().__init__(name=name, **kwargs)
        self.margin = float(margin)

    def call(self, y_true, y_pred):
        return contrastive_loss(y_true, y_pred, self.margin)

    def get_config(self):
        return {**super().get_config(), "margin": self.margin}


class _MinedTripletLoss(keras.losses.Loss):
    _fn = None

    def __init__(self, margin: float = 0.2, squared: bool = False, name: str | None = None, **kwargs):
        super().__init__(name=name or self.default_name, **kwargs)
        self.margin, self.squared = float(margin), bool(squared)

    def call(self, y_true, y_pred):
        return type(self)._fn(y_true, y_pred, self.margin, self.squared)

    def get_config(self):
        return {**super().get_config(), "margin": self.margin, "squared": self.squared}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class BatchAllTripletLoss(_MinedTripletLoss):
    """Keras loss: ``y_true`` = identity labels, ``y_pred`` = embeddings; batch-all mining."""

    default_name = "batch_all_triplet"
    _fn = staticmethod(batch_all_triplet_loss)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class BatchHardTripletLoss(_MinedTripletLoss):
    """Keras loss: ``y_true`` = identity labels, ``y_pred`` = embeddings; batch-hard mining."""

    default_name = "batch_hard_triplet"
    _fn = staticmethod(batch_hard_triplet_loss)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SemiHardTripletLoss(_MinedTripletLoss):
    """Keras loss: ``y_true`` = identity labels, ``y_pred`` = embeddings; semi-hard mining
    (FaceNet's band by default, TensorFlow Addons' rule with ``fallback="farthest"``)."""

    default_name = "semi_hard_triplet"

    def __init__(self, margin: float = 0.2, squared: bool = False, fallback: str = "none",
                 name: str | None = None, **kwargs):
        if fallback not in SEMI_HARD_FALLBACKS:
            raise ValueError(f"unknown fallback {fallback!r}; choose one of {list(SEMI_HARD_FALLBACKS)}")
        super().__init__(margin=margin, squared=squared, name=name, **kwargs)
        self.fallback = fallback

    def call(self, y_true, y_pred):
        return semi_hard_triplet_loss(y_true, y_pred, self.margin, self.squared, self.fallback)

    def get_config(self):
        return {**super().get_config(), "fallback": self.fallback}


#: Kinds of margin accepted by :func:`margin_softmax_loss`.
MARGINS = ("cosface", "arcface")


def margin_softmax_loss(labels, cosines, scale: float = 30.0, margin: float = 0.0, kind: str = "cosface"):
    """Mean cross-entropy of ``scale`` times the class cosines, the true class's cosine penalised.

    For an example of class ``y`` with cosines ``c_j`` to the class directions, the
    true class's logit is ``s (c_y - m)`` for CosFace (additive cosine margin) or
    ``s cos(arccos(c_y) + m)`` for ArcFace (additive angular margin); every other
    logit is ``s c_j``. With ``margin=0`` both are the normalised softmax (NormFace).

    Parameters
    ----------
    labels : tensor
        ``(batch,)`` or ``(batch, 1)`` integer class of each example.
    cosines : tensor
        ``(batch, n_classes)`` cosines, e.g. from
        :class:`~siamese_lessons.layers.CosineClassifier`.
    scale : float, default=30.0
        ``s``, the inverse temperature: cosines live in [-1, 1], so without it the
        softmax could never become confident.
    margin : float, default=0.0
        ``m`` (CosFace: in cosine units, typically 0.35; ArcFace: radians, typically 0.5).
    kind : {"cosface", "arcface"}

    Returns
    -------
    tensor
        Scalar mean loss.
    """
    if kind not in MARGINS:
        raise ValueError(f"unknown margin kind {kind!r}; choose one of {list(MARGINS)}")
    labels = ops.reshape(ops.cast(labels, "int32"), (-1,))
    cosines = ops.cast(cosines, "float32")
    true = ops.one_hot(labels, ops.shape(cosines)[-1], dtype="float32")
    if kind == "cosface":
        target = cosines - margin
    else:
        theta = ops.arccos(ops.clip(cosines, -1.0 + 1e-7, 1.0 - 1e-7))
        target = ops.cos(theta + margin)
    logits = scale * (true * target + (1.0 - true) * cosines)
    return ops.mean(keras.losses.categorical_crossentropy(true, logits, from_logits=True))


@keras.saving.register_keras_serializable(package=_PACKAGE)
class MarginSoftmaxLoss(keras.losses.Loss):
    """Keras loss: ``y_true`` = class labels, ``y_pred`` = class cosines; see :func:`margin_softmax_loss`."""

    def __init__(self, scale: float = 30.0, margin: float = 0.0, kind: str = "cosface",
                 name: str = "margin_softmax", **kwargs):
        super().__init__(name=name, **kwargs)
        if kind not in MARGINS:
            raise ValueError(f"unknown margin kind {kind!r}; choose one of {list(MARGINS)}")
        if not scale > 0:
            raise ValueError(f"scale must be positive, got {scale!r}")
        self.scale, self.margin, self.kind = float(scale), float(margin), kind

    def call(self, y_true, y_pred):
        return margin_softmax_loss(y_true, y_pred, self.scale, self.margin, self.kind)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "margin": self.margin, "kind": self.kind}


#: Online miners by name (see :func:`mined_triplet_loss`).
MINERS = ("batch_all", "batch_hard", "semi_hard")


def mined_triplet_loss(mining: str, margin: float = 0.2) -> keras.losses.Loss:
    """The Keras loss of an online miner by name, one of :data:`MINERS`: batch-all,
    batch-hard or FaceNet's semi-hard."""
    losses = {"batch_all": BatchAllTripletLoss, "batch_hard": BatchHardTripletLoss,
              "semi_hard": SemiHardTripletLoss}
    if mining not in losses:
        raise ValueError(f"unknown mining {mining!r}; choose one of {list(MINERS)}")
    return losses[mining](margin=margin)
