"""``tf.data`` pipelines that feed pairs from a ``uint8`` image table.

The table stays ``uint8`` in memory; each batch gathers its images by index,
casts them to float32 and scales them to ``[0, 1]``, optionally distorts them,
and prefetches the next batch while the model trains on this one. Randomness
(shuffling, augmentation) comes from one seed, so a pipeline built twice with
the same seed yields the same batches.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from ._tf import tensorflow
from .data.containers import PairSet

__all__ = [
    "FLIP",
    "KOCH_AFFINE",
    "Augmentation",
    "affine_matrices",
    "augment_images",
    "identity_batch_dataset",
    "pair_dataset",
]


@dataclasses.dataclass(frozen=True)
class Augmentation:
    """Random distortions applied independently to each image of a pair.

    Each distortion is applied with probability ``p`` (else left out); the
    defaults are Koch et al.'s affine distortions.

    Attributes
    ----------
    rotation : float
        Maximum rotation, degrees (uniform in ``[-rotation, rotation]``).
    shear : float
        Maximum shear (uniform in ``[-shear, shear]``, per axis).
    scale : (float, float)
        Range of the zoom factor, per axis.
    translation : float
        Maximum shift, pixels, per axis.
    flip : bool
        Horizontal flip with probability ``p`` (faces, not characters).
    p : float
        Probability of each distortion.
    """

    rotation: float = 10.0
    shear: float = 0.3
    scale: tuple[float, float] = (0.8, 1.2)
    translation: float = 2.0
    flip: bool = False
    p: float = 0.5

    def __post_init__(self) -> None:
        if not 0 <= self.p <= 1:
            raise ValueError(f"p must be in [0, 1], got {self.p}")
        if self.scale[0] <= 0 or self.scale[0] > self.scale[1]:
            raise ValueError(f"scale must be (low, high) with 0 < low <= high, got {self.scale}")
        if min(self.rotation, self.shear, self.translation) < 0:
            raise ValueError("rotation, shear and translation must be non-negative")

    @property
    def is_identity(self) -> bool:
        """True when no distortion can change an image."""
        return self.p == 0 or (self.rotation == self.shear == self.translation == 0
                               and self.scale == (1.0, 1.0) and not self.flip)


#: Koch et al. (2015): rotation +-10 deg, shear +-0.3, scale 0.8-1.2, shift +-2 px, each with p = 0.5.
KOCH_AFFINE = Augmentation()
#: Horizontal flips only (for faces).
FLIP = Augmentation(rotation=0.0, shear=0.0, scale=(1.0, 1.0), translation=0.0, flip=True)


def affine_matrices(n: int, height: int, width: int, aug: Augmentation, seed) -> tf.Tensor:  # noqa: F821
    """Random projective transforms in the 8-number form of ``ImageProjectiveTransformV3``.

    Each row maps *output* pixel coordinates to *input* coordinates (the inverse
    of the distortion), composed about the image centre.

    Parameters
    ----------
    n : int
        Number of matrices.
    height, width : int
        Image size.
    aug : Augmentation
    seed : tensor of shape (2,)
        Stateless random seed.
    """
    tf = tensorflow()
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 9)

    def uniform(k, low, high):
        return tf.random.stateless_uniform((n,), seeds[k], low, high)

    def gate(k, value, neutral):
        keep = tf.random.stateless_uniform((n,), seeds[k]) < aug.p
        return tf.where(keep, value, neutral)

    rad = aug.rotation * math.pi / 180.0
    theta = gate(0, uniform(1, -rad, rad), 0.0)
    shx = gate(2, uniform(3, -aug.shear, aug.shear), 0.0)
    shy = gate(2, uniform(4, -aug.shear, aug.shear), 0.0)
    sx = gate(5, uniform(6, aug.scale[0], aug.scale[1]), 1.0)
    sy = gate(5, uniform(7, aug.scale[0], aug.scale[1]), 1.0)
    txy = tf.random.stateless_uniform((n, 2), seeds[8], -aug.translation, aug.translation)
    shift_seed = tf.random.experimental.stateless_fold_in(seeds[8], 1)
    shift_on = tf.random.stateless_uniform((n,), shift_seed) < aug.p
    tx = tf.where(shift_on, txy[:, 0], 0.0)
    ty = tf.where(shift_on, txy[:, 1], 0.0)

    # Forward map A = T * R * Sh * S about the centre; the op needs its inverse.
    cos, sin = tf.cos(theta), tf.sin(theta)
    zeros, ones = tf.zeros_like(cos), tf.ones_like(cos)

    def mat(a, b, c, d):  # 2x2 per sample
        return tf.stack([tf.stack([a, b], -1), tf.stack([c, d], -1)], -2)

    linear = mat(cos, -sin, sin, cos) @ mat(ones, shx, shy, ones) @ mat(sx, zeros, zeros, sy)
    inverse = tf.linalg.inv(linear)
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    centre = tf.constant([cx, cy], tf.float32)
    # input = inverse @ (output - centre - t) + centre
    offset = centre - tf.linalg.matvec(inverse, centre + tf.stack([tx, ty], -1))
    return tf.stack([inverse[:, 0, 0], inverse[:, 0, 1], offset[:, 0],
                     inverse[:, 1, 0], inverse[:, 1, 1], offset[:, 1],
                     zeros, zeros], axis=-1)


def augment_images(images, aug: Augmentation, seed, fill_value: float = 0.0):
    """Distort a float batch ``(n, H, W, C)`` with ``aug`` (stateless, seeded)."""
    tf = tensorflow()
    images = tf.convert_to_tensor(images, tf.float32)
    if aug.is_identity:
        return images
    shape = tf.shape(images)
    n, h, w = shape[0], images.shape[1], images.shape[2]
    seed = tf.cast(seed, tf.int64)
    if aug.flip:
        flip = tf.random.stateless_uniform((n,), tf.random.experimental.stateless_fold_in(seed, 7)) < aug.p
        images = tf.where(flip[:, None, None, None], tf.reverse(images, axis=[2]), images)
    if aug.rotation or aug.shear or aug.translation or aug.scale != (1.0, 1.0):
        transforms = affine_matrices(n, h, w, aug, seed)
        images = tf.raw_ops.ImageProjectiveTransformV3(
            images=images, transforms=transforms, output_shape=tf.stack([h, w]),
            fill_value=tf.constant(fill_value, tf.float32), interpolation="BILINEAR", fill_mode="CONSTANT")
    return images


def pair_dataset(
    pairs: PairSet,
    index: Sequence[int] | np.ndarray | None = None,
    *,
    batch_size: int = 32,
    shuffle: bool = False,
    augmentation: Augmentation | None = None,
    seed: int = 0,
    repeat: bool = False,
    fill_value: float = 0.0,
):
    """A ``tf.data.Dataset`` of ``((left, right), label)`` batches.

    Parameters
    ----------
    pairs : PairSet
    index : sequence of int or None
        Which pairs to serve (default: all).
    batch_size : int
    shuffle : bool
        Reshuffle every epoch (seeded).
    augmentation : Augmentation or None
        Distortions for training; ``None`` for evaluation.
    seed : int
        Seed of shuffling and augmentation.
    repeat : bool
        Repeat forever (for ``steps_per_epoch`` training).
    fill_value : float
        Value of pixels uncovered by a distortion (0 = black, as LFW's borders;
        use 1.0 for Omniglot's white paper).

    Returns
    -------
    tf.data.Dataset
        ``left``/``right`` float32 ``(batch, H, W, C)`` in ``[0, 1]``; label float32 ``(batch,)``
        with 1 = same identity.
    """
    tf = tensorflow()
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    index = np.arange(len(pairs)) if index is None else np.asarray(index, dtype=np.int64)
    if index.size == 0:
        raise ValueError("pair_dataset needs at least one pair")
    table = tf.constant(pairs.images if pairs.images.ndim == 4 else pairs.images[..., None])
    ds = tf.data.Dataset.from_tensor_slices((pairs.pairs[index], pairs.labels[index].astype(np.float32)))
    if shuffle:
        ds = ds.shuffle(len(index), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size)
    ds = tf.data.Dataset.zip((ds, tf.data.Dataset.random(seed=seed).batch(2)))

    def load(batch, rnd):
        idx, label = batch
        left = tf.cast(tf.gather(table, idx[:, 0]), tf.float32) / 255.0
        right = tf.cast(tf.gather(table, idx[:, 1]), tf.float32) / 255.0
        if augmentation is not None and not augmentation.is_identity:
            seed_l = tf.random.experimental.stateless_fold_in(rnd, 0)
            seed_r = tf.random.experimental.stateless_fold_in(rnd, 1)
            left = augment_images(left, augmentation, seed_l, fill_value)
            right = augment_images(right, augmentation, seed_r, fill_value)
        return (left, right), label

    return ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(tf.data.AUTOTUNE)


def identity_batch_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    batches: np.ndarray,
    *,
    augmentation: Augmentation | None = None,
    seed: int = 0,
    fill_value: float = 0.0,
):
    """A ``tf.data.Dataset`` of ``(images, labels)`` batches given by index rows.

    Use with :func:`~siamese_lessons.pairs.pk_batches` for online triplet mining:
    ``y_true`` is the identity label of each image, ``y_pred`` the embeddings.

    Parameters
    ----------
    images : numpy.ndarray
        ``uint8`` table ``(n, H, W)`` or ``(n, H, W, C)``.
    labels : numpy.ndarray
        ``(n,)`` integer identity of each image.
    batches : numpy.ndarray
        ``(n_batches, batch_size)`` indices into ``images``.
    augmentation, seed, fill_value
        As in :func:`pair_dataset`.
    """
    tf = tensorflow()
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"images must be uint8, got {images.dtype}")
    batches = np.asarray(batches, dtype=np.int64)
    if batches.ndim != 2 or batches.size == 0:
        raise ValueError(f"batches must be a non-empty (n_batches, batch_size) array, got {batches.shape}")
    if batches.max() >= len(images) or batches.min() < 0:
        raise IndexError(f"batches refer to image {int(batches.max())}, but there are {len(images)} images")
    table = tf.constant(images if images.ndim == 4 else images[..., None])
    label_table = tf.constant(np.asarray(labels, dtype=np.int64))
    ds = tf.data.Dataset.zip((tf.data.Dataset.from_tensor_slices(batches),
                              tf.data.Dataset.random(seed=seed).batch(2)))

    def load(idx, rnd):
        x = tf.cast(tf.gather(table, idx), tf.float32) / 255.0
        if augmentation is not None and not augmentation.is_identity:
            x = augment_images(x, augmentation, rnd, fill_value)
        return x, tf.gather(label_table, idx)

    return ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(tf.data.AUTOTUNE)
