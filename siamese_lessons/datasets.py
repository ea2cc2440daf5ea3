"""Input pipelines that feed pairs from a ``uint8`` image table.

The table stays ``uint8`` in memory; each batch gathers its images by index,
casts them to float32 and scales them to ``[0, 1]``, optionally distorts them,
and prefetches the next batch while the model trains on this one. Randomness
(shuffling, augmentation) comes from one seed, so a pipeline built twice with
the same seed yields the same batches.

On Keras's TensorFlow backend the pipelines are ``tf.data`` datasets. On the
JAX backend (``KERAS_BACKEND=jax``; PyTorch takes the same path, untested),
where TensorFlow may not even be installed, :func:`pair_dataset` and :func:`identity_batch_dataset` return the
NumPy equivalents :class:`ArrayPairs` and :class:`ArrayBatches` instead: the
same batches, labels and distortions (drawn from NumPy's generator, so not the
same random numbers).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Sequence

import numpy as np

from ._tf import backend_name, tensorflow
from ._tf import keras as _keras
from .data.containers import PairSet

__all__ = [
    "FACE_AUGMENTATION",
    "FLIP",
    "KOCH_AFFINE",
    "ArrayBatches",
    "ArrayPairs",
    "Augmentation",
    "affine_matrices",
    "augment_array",
    "augment_images",
    "identity_batch_dataset",
    "pair_dataset",
    "sample_affine_matrices",
    "warp_images",
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
    def has_affine(self) -> bool:
        """True when rotation, shear, translation or scaling can move pixels."""
        return bool(self.rotation or self.shear or self.translation or self.scale != (1.0, 1.0))

    @property
    def is_identity(self) -> bool:
        """True when no distortion can change an image."""
        return self.p == 0 or (self.rotation == self.shear == self.translation == 0
                               and self.scale == (1.0, 1.0) and not self.flip)


#: Koch et al. (2015): rotation +-10 deg, shear +-0.3, scale 0.8-1.2, shift +-2 px, each with p = 0.5.
KOCH_AFFINE = Augmentation()
#: Distortions for face training images: flips, small rotations, zooms and shifts.
FACE_AUGMENTATION = Augmentation(rotation=5.0, shear=0.0, scale=(0.95, 1.05), translation=4.0, flip=True,
                                 p=0.5)
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
    if aug.has_affine:
        transforms = affine_matrices(n, h, w, aug, seed)
        images = tf.raw_ops.ImageProjectiveTransformV3(
            images=images, transforms=transforms, output_shape=tf.stack([h, w]),
            fill_value=tf.constant(fill_value, tf.float32), interpolation="BILINEAR", fill_mode="CONSTANT")
    return images


def sample_affine_matrices(n: int, height: int, width: int, aug: Augmentation,
                           rng: np.random.Generator) -> np.ndarray:
    """NumPy twin of :func:`affine_matrices`: ``(n, 8)`` float32 transforms drawn from ``rng``.

    Same distributions and the same output-to-input convention (about the image
    centre), for the NumPy pipelines.
    """
    rad = aug.rotation * math.pi / 180.0

    def gated(low, high, neutral, shape=(n,)):
        values = rng.uniform(low, high, shape)
        keep = rng.random(n) < aug.p
        return np.where(keep if values.ndim == 1 else keep[:, None], values, neutral)

    theta = gated(-rad, rad, 0.0)
    shear_on = rng.random(n) < aug.p
    shx = np.where(shear_on, rng.uniform(-aug.shear, aug.shear, n), 0.0)
    shy = np.where(shear_on, rng.uniform(-aug.shear, aug.shear, n), 0.0)
    scale = gated(aug.scale[0], aug.scale[1], 1.0, (n, 2))
    shift = gated(-aug.translation, aug.translation, 0.0, (n, 2))
    cos, sin = np.cos(theta), np.sin(theta)
    rot = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)
    she = np.stack([np.stack([np.ones(n), shx], -1), np.stack([shy, np.ones(n)], -1)], -2)
    sca = np.zeros((n, 2, 2))
    sca[:, 0, 0], sca[:, 1, 1] = scale[:, 0], scale[:, 1]
    inverse = np.linalg.inv(rot @ she @ sca)
    centre = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
    offset = centre - np.einsum("nij,nj->ni", inverse, centre + shift)
    out = np.zeros((n, 8), np.float32)
    out[:, [0, 1, 3, 4]] = inverse.reshape(n, 4)
    out[:, [2, 5]] = offset
    return out


def warp_images(images: np.ndarray, transforms: np.ndarray, fill_value: float = 0.0) -> np.ndarray:
    """Apply ``(n, 8)`` output-to-input transforms to float images ``(n, H, W, C)`` (bilinear).

    The NumPy counterpart of TensorFlow's ``ImageProjectiveTransformV3`` with
    ``fill_mode="CONSTANT"`` for affine transforms (last two numbers zero):
    outside the image the input is ``fill_value``, also for interpolation at
    the border. Vectorised over the batch; large batches are split over a few
    threads (NumPy releases the GIL in this arithmetic).
    """
    images = np.asarray(images, dtype=np.float32)
    transforms = np.asarray(transforms, dtype=np.float32)
    if images.ndim != 4 or transforms.shape != (len(images), 8):
        raise ValueError(f"need images (n, H, W, C) and transforms (n, 8), got {images.shape} "
                         f"and {transforms.shape}")
    parts = min(_THREADS, len(images) // 32)
    if parts > 1:
        chunks = np.array_split(np.arange(len(images)), parts)
        return np.concatenate(list(_thread_pool().map(
            lambda idx: _warp(images[idx], transforms[idx], fill_value), chunks)))
    return _warp(images, transforms, fill_value)


_THREADS = min(8, os.cpu_count() or 1)
_POOL: list = []


def _thread_pool():
    if not _POOL:
        from concurrent.futures import ThreadPoolExecutor

        _POOL.append(ThreadPoolExecutor(_THREADS, thread_name_prefix="siamese-lessons-warp"))
    return _POOL[0]


def _warp(images: np.ndarray, transforms: np.ndarray, fill_value: float) -> np.ndarray:
    n, h, w, c = images.shape
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=fill_value)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    t = transforms[:, :, None, None]
    # Input coordinates of every output pixel, +1 for the padding.
    x = t[:, 0] * xs + t[:, 1] * ys + t[:, 2] + 1.0
    y = t[:, 3] * xs + t[:, 4] * ys + t[:, 5] + 1.0
    x0, y0 = np.floor(x), np.floor(y)
    wx, wy = (x - x0)[..., None], (y - y0)[..., None]
    flat = padded.reshape(-1, c)
    base = (np.arange(n, dtype=np.int64) * ((h + 2) * (w + 2)))[:, None, None]
    cols = [np.clip(x0, 0, w + 1).astype(np.int64), np.clip(x0 + 1, 0, w + 1).astype(np.int64)]
    rows = [np.clip(y0, 0, h + 1).astype(np.int64) * (w + 2),
            np.clip(y0 + 1, 0, h + 1).astype(np.int64) * (w + 2)]

    def at(r, col):
        return np.take(flat, base + rows[r] + cols[col], axis=0)

    top = at(0, 0) * (1 - wx) + at(0, 1) * wx
    bottom = at(1, 0) * (1 - wx) + at(1, 1) * wx
    return top * (1 - wy) + bottom * wy


def augment_array(images: np.ndarray, aug: Augmentation, rng: np.random.Generator,
                  fill_value: float = 0.0) -> np.ndarray:
    """NumPy twin of :func:`augment_images`: distort float images ``(n, H, W, C)`` with ``aug``."""
    images = np.asarray(images, dtype=np.float32)
    if aug.is_identity:
        return images
    n, h, w = images.shape[:3]
    if aug.flip:
        flip = rng.random(n) < aug.p
        images = np.where(flip[:, None, None, None], images[:, :, ::-1], images)
    if aug.has_affine:
        images = warp_images(images, sample_affine_matrices(n, h, w, aug, rng), fill_value)
    return images


def _image_table(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"images must be uint8, got {images.dtype}")
    return images if images.ndim == 4 else images[..., None]


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
    tf.data.Dataset or ArrayPairs
        ``left``/``right`` float32 ``(batch, H, W, C)`` in ``[0, 1]``; label float32 ``(batch,)``
        with 1 = same identity. An :class:`ArrayPairs` on a backend other than TensorFlow.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    index = np.arange(len(pairs)) if index is None else np.asarray(index, dtype=np.int64)
    if index.size == 0:
        raise ValueError("pair_dataset needs at least one pair")
    if backend_name() != "tensorflow":
        # Training batches are built by a few threads ahead of the model (Keras's enqueuer).
        workers = {"workers": _THREADS, "max_queue_size": 4 * _THREADS} if shuffle and not repeat else {}
        return ArrayPairs(pairs, index, batch_size=batch_size, shuffle=shuffle, augmentation=augmentation,
                          seed=seed, repeat=repeat, fill_value=fill_value, **workers)
    tf = tensorflow()
    table = tf.constant(_image_table(pairs.images))
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

    Returns
    -------
    tf.data.Dataset or ArrayBatches
        An :class:`ArrayBatches` on a backend other than TensorFlow.
    """
    table_np = _image_table(images)
    batches = _check_batches(batches, len(table_np))
    if backend_name() != "tensorflow":
        return ArrayBatches(table_np, labels, batches, augmentation=augmentation, seed=seed,
                            fill_value=fill_value)
    tf = tensorflow()
    table = tf.constant(table_np)
    label_table = tf.constant(np.asarray(labels, dtype=np.int64))
    ds = tf.data.Dataset.zip((tf.data.Dataset.from_tensor_slices(batches),
                              tf.data.Dataset.random(seed=seed).batch(2)))

    def load(idx, rnd):
        x = tf.cast(tf.gather(table, idx), tf.float32) / 255.0
        if augmentation is not None and not augmentation.is_identity:
            x = augment_images(x, augmentation, rnd, fill_value)
        return x, tf.gather(label_table, idx)

    return ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(tf.data.AUTOTUNE)


def _check_batches(batches, n_images: int) -> np.ndarray:
    batches = np.asarray(batches, dtype=np.int64)
    if batches.ndim != 2 or batches.size == 0:
        raise ValueError(f"batches must be a non-empty (n_batches, batch_size) array, got {batches.shape}")
    if batches.max() >= n_images or batches.min() < 0:
        raise IndexError(f"batches refer to image {int(batches.max())}, but there are {n_images} images")
    return batches


class ArrayPairs(_keras().utils.PyDataset):
    """Pair batches ``((left, right), label)`` from a :class:`PairSet`, in NumPy.

    What :func:`pair_dataset` returns on backends other than TensorFlow; it works
    on any backend. Batch *i* of epoch *e* depends only on ``(seed, e, i)``.

    Parameters
    ----------
    pairs : PairSet
    index : array of int
        Which pairs to serve.
    batch_size, shuffle, augmentation, seed, repeat, fill_value
        As in :func:`pair_dataset`.
    **kwargs
        Passed to ``keras.utils.PyDataset`` (``workers``, ``use_multiprocessing``, ...).
    """

    def __init__(self, pairs: PairSet, index, *, batch_size: int = 32, shuffle: bool = False,
                 augmentation: Augmentation | None = None, seed: int = 0, repeat: bool = False,
                 fill_value: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.table = _image_table(pairs.images)
        self.index = np.asarray(index, dtype=np.int64)
        if self.index.size == 0:
            raise ValueError("ArrayPairs needs at least one pair")
        self.pairs, self.labels = pairs.pairs, pairs.labels.astype(np.float32)
        self.batch_size, self.shuffle, self.seed, self.repeat = batch_size, shuffle, seed, repeat
        self.augmentation, self.fill_value = augmentation, fill_value
        self.epoch = 0
        self._orders: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return math.ceil(len(self.index) / self.batch_size)

    @property
    def num_batches(self) -> int | None:
        return None if self.repeat else len(self)

    def _order(self, epoch: int) -> np.ndarray:
        """This epoch's pair order, drawn once per epoch (the last two epochs are kept)."""
        if not self.shuffle:
            return self.index
        if epoch not in self._orders:
            perm = np.random.default_rng((self.seed, epoch)).permutation(len(self.index))
            self._orders = {e: o for e, o in self._orders.items() if e >= epoch - 1}
            self._orders[epoch] = self.index[perm]
        return self._orders[epoch]

    def __getitem__(self, i: int):
        epoch, i = (i // len(self), i % len(self)) if self.repeat else (self.epoch, i)
        chosen = self._order(epoch)[i * self.batch_size:(i + 1) * self.batch_size]
        left = self.table[self.pairs[chosen, 0]].astype(np.float32) / 255.0
        right = self.table[self.pairs[chosen, 1]].astype(np.float32) / 255.0
        if self.augmentation is not None and not self.augmentation.is_identity:
            rng = np.random.default_rng((self.seed, epoch, i))
            left = augment_array(left, self.augmentation, rng, self.fill_value)
            right = augment_array(right, self.augmentation, rng, self.fill_value)
        return (left, right), self.labels[chosen]

    def on_epoch_end(self) -> None:
        self.epoch += 1


class ArrayBatches(_keras().utils.PyDataset):
    """Image batches ``(images, identity labels)`` given by index rows, in NumPy.

    What :func:`identity_batch_dataset` returns on backends other than TensorFlow.

    Parameters
    ----------
    images, labels, batches, augmentation, seed, fill_value
        As in :func:`identity_batch_dataset`.
    **kwargs
        Passed to ``keras.utils.PyDataset``.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, batches: np.ndarray, *,
                 augmentation: Augmentation | None = None, seed: int = 0, fill_value: float = 0.0,
                 **kwargs):
        super().__init__(**kwargs)
        self.table = _image_table(images)
        self.labels = np.asarray(labels, dtype=np.int64)
        if self.labels.shape != (len(self.table),):
            raise ValueError(f"labels must have one entry per image ({len(self.table)}), "
                             f"got {self.labels.shape}")
        self.batches = _check_batches(batches, len(self.table))
        self.augmentation, self.seed, self.fill_value = augmentation, seed, fill_value

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int):
        idx = self.batches[i]
        x = self.table[idx].astype(np.float32) / 255.0
        if self.augmentation is not None and not self.augmentation.is_identity:
            x = augment_array(x, self.augmentation, np.random.default_rng((self.seed, i)), self.fill_value)
        return x, self.labels[idx]
