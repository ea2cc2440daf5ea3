"""In-memory batch sources: pairs and identity batches gathered from a ``uint8`` image table.

The table stays ``uint8`` in memory and so do the batches: each gathers its images
by index, and the models rescale them to ``[0, 1]`` inside (their first layer).
On Keras's TensorFlow backend the gather runs inside a ``tf.data`` pipeline that
prefetches the next batch while the model trains (a ``keras.utils.PyDataset`` there
costs tens of milliseconds a step, more than a small model's whole step on a CPU);
on every other backend (JAX, where TensorFlow
may not be installed) the same batches come from :class:`ArrayPairs` and
:class:`ArrayBatches`, whose batch *i* of epoch *e* depends only on ``(seed, e, i)``.
Nothing here distorts images: training distortions are a layer inside the model
(:func:`~siamese_lessons.models.with_augmentation`). Streaming from image files
is :mod:`siamese_lessons.streaming`'s job.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ._tf import backend_name, tensorflow
from ._tf import keras as _keras
from .data.containers import PairSet, as_model_input

__all__ = ["ArrayBatches", "ArrayPairs", "identity_batch_dataset", "pair_dataset"]


def pair_dataset(
    pairs: PairSet,
    index: Sequence[int] | np.ndarray | None = None,
    *,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int = 0,
    repeat: bool = False,
):
    """Batches ``((left, right), label)`` of ``pairs`` for ``fit``, ``evaluate`` or ``predict``.

    One pass serves every pair of ``index`` once, in order unless ``shuffle``.

    Parameters
    ----------
    pairs : PairSet
    index : sequence of int or None
        Which pairs to serve (default: all).
    batch_size : int
    shuffle : bool
        Reshuffle every epoch (seeded).
    seed : int
        Seed of shuffling.
    repeat : bool
        Repeat forever (for ``steps_per_epoch`` training).

    Returns
    -------
    tf.data.Dataset or ArrayPairs
        ``left``/``right`` ``uint8`` ``(batch, H, W, C)``; label float32 ``(batch,)``
        with 1 = same identity. A ``tf.data.Dataset`` on the TensorFlow backend (shuffled by
        tf.data's own seeded shuffle), else an :class:`ArrayPairs`.
    """
    index = np.arange(len(pairs)) if index is None else index
    source = ArrayPairs(pairs, index, batch_size=batch_size, shuffle=shuffle, seed=seed, repeat=repeat)
    if backend_name() != "tensorflow":
        return source
    tf = tensorflow()
    table = tf.constant(source.table)
    ds = tf.data.Dataset.from_tensor_slices((source.pairs[source.index], source.labels[source.index]))
    if shuffle:
        ds = ds.shuffle(len(source.index), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()

    def gather(idx, label):
        return (tf.gather(table, idx[:, 0]), tf.gather(table, idx[:, 1])), label

    return ds.batch(source.batch_size).map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(
        tf.data.AUTOTUNE)


def identity_batch_dataset(images: np.ndarray, labels: np.ndarray, batches: np.ndarray):
    """Batches ``(images, labels)`` given by index rows, for online triplet mining and
    margin-softmax training.

    Use with :func:`~siamese_lessons.pairs.pk_batches`: ``y_true`` is the identity
    label of each image, ``y_pred`` the embeddings (or class scores).

    Parameters
    ----------
    images : numpy.ndarray
        ``uint8`` table ``(n, H, W)`` or ``(n, H, W, C)``.
    labels : numpy.ndarray
        ``(n,)`` integer identity of each image.
    batches : numpy.ndarray
        ``(n_batches, batch_size)`` indices into ``images``, one row per step.

    Returns
    -------
    tf.data.Dataset or ArrayBatches
        ``uint8`` images ``(batch, H, W, C)`` and int64 labels ``(batch,)``; a
        ``tf.data.Dataset`` on the TensorFlow backend, else an :class:`ArrayBatches`.
    """
    source = ArrayBatches(images, labels, batches)
    if backend_name() != "tensorflow":
        return source
    tf = tensorflow()
    table, label_table = tf.constant(source.table), tf.constant(source.labels)

    def gather(idx):
        return tf.gather(table, idx), tf.gather(label_table, idx)

    return tf.data.Dataset.from_tensor_slices(source.batches).map(
        gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def _check_batches(batches, n_images: int) -> np.ndarray:
    batches = np.asarray(batches, dtype=np.int64)
    if batches.ndim != 2 or batches.size == 0:
        raise ValueError(f"batches must be a non-empty (n_batches, batch_size) array, got {batches.shape}")
    if batches.max() >= n_images or batches.min() < 0:
        raise IndexError(f"batches refer to image {int(batches.max())}, but there are {n_images} images")
    return batches


class ArrayPairs(_keras().utils.PyDataset):
    """Pair batches ``((left, right), label)`` from a :class:`PairSet` (see :func:`pair_dataset`).

    Parameters
    ----------
    pairs : PairSet
    index : array of int
        Which pairs to serve.
    batch_size, shuffle, seed, repeat
        As in :func:`pair_dataset`.
    **kwargs
        Passed to ``keras.utils.PyDataset`` (``workers``, ``use_multiprocessing``, ...).
    """

    def __init__(self, pairs: PairSet, index, *, batch_size: int = 32, shuffle: bool = False, seed: int = 0,
                 repeat: bool = False, **kwargs):
        super().__init__(**kwargs)
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.table = as_model_input(pairs.images)  # batches are rows of it, as they are
        self.index = np.asarray(index, dtype=np.int64).ravel()
        if self.index.size == 0:
            raise ValueError("pair_dataset needs at least one pair")
        if self.index.min() < 0 or self.index.max() >= len(pairs):
            raise IndexError(f"index refers to pair {int(self.index.max())}, there are {len(pairs)} pairs")
        self.pairs, self.labels = pairs.pairs, pairs.labels.astype(np.float32)
        self.batch_size, self.shuffle, self.seed, self.repeat = int(batch_size), shuffle, seed, repeat
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
        left, right = (self.table[self.pairs[chosen, k]] for k in (0, 1))
        return (left, right), self.labels[chosen]

    def on_epoch_end(self) -> None:
        self.epoch += 1


class ArrayBatches(_keras().utils.PyDataset):
    """Image batches ``(images, identity labels)`` given by index rows (see
    :func:`identity_batch_dataset`).

    Parameters
    ----------
    images, labels, batches
        As in :func:`identity_batch_dataset`.
    **kwargs
        Passed to ``keras.utils.PyDataset``.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, batches: np.ndarray, **kwargs):
        super().__init__(**kwargs)
        self.table = as_model_input(images)
        self.labels = np.asarray(labels, dtype=np.int64)
        if self.labels.shape != (len(self.table),):
            raise ValueError(f"labels must have one entry per image ({len(self.table)}), "
                             f"got {self.labels.shape}")
        self.batches = _check_batches(batches, len(self.table))

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int):
        idx = self.batches[i]
        return self.table[idx], self.labels[idx]
