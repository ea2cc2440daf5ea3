"""Streaming input from files: pair files, TFRecord shards, a throughput meter.

At MS-Celeb scale (about 5 million images) the in-memory arrays of the earlier
chapters stop working: 5 million 112x112 RGB crops are 188 GB of ``uint8``.
The pipelines here read images from disk while the accelerator trains:

* :func:`pair_file_dataset` streams the seed's two pair files
  (``positive_pairs_path.txt`` / ``negative_pairs_path.txt``, one
  ``<path a> <path b>`` per line), balanced 50/50, shuffled in a buffer,
  decoded and resized in parallel, batched and prefetched;
* :func:`write_tfrecord_shards` packs a clean list into TFRecord shards, one
  record per *identity* (its images re-encoded as JPEG at the training size),
  so that :func:`pk_shard_dataset` can stream P x K batches for online triplet
  mining by reading identities, not random images;
* :func:`measure_throughput` times any of them in images per second.

All of it is ``tf.data`` and needs the TensorFlow backend.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ._tf import tensorflow
from .data.containers import ImageList
from .errors import DatasetNotFoundError
from .pairgen import PAIR_FILE_NAMES
from .pairs import group_by_label

__all__ = [
    "PAIR_FILE_NAMES",
    "ShardSet",
    "Throughput",
    "count_images",
    "decode_image",
    "measure_throughput",
    "pair_file_dataset",
    "pk_shard_dataset",
    "read_shard_set",
    "shard_image_dataset",
    "write_tfrecord_shards",
]

def _check_size(image_size: Sequence[int], channels: int) -> tuple[int, int]:
    size = tuple(int(s) for s in image_size)
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f"image_size must be (height, width) of positive integers, got {image_size!r}")
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (grey) or 3 (RGB), got {channels!r}")
    return size


def decode_image(data, image_size: Sequence[int], channels: int = 3):
    """Decode encoded image bytes (JPEG, PNG, BMP, GIF) to ``uint8`` pixels of ``image_size``.

    The conventions are :func:`siamese_lessons.data.read_image`'s, so that a model trained
    on streamed files and scored on the in-memory loaders sees the same pixels: grey is the
    mean of the R, G and B channels (scikit-learn's LFW grey, not TensorFlow's luma
    weights), resizing is antialiased bicubic (Pillow's ``BICUBIC``, which the loaders
    and scikit-learn use), and the result is rounded to ``uint8`` as the loaders store it
    (the models rescale to [0, 1] inside). On a lossless file the two agree to within one
    grey level; on a JPEG the decoders' own rounding adds about one more.

    Parameters
    ----------
    data : tf.Tensor
        Scalar ``tf.string`` with the file's bytes.
    image_size : (int, int)
        Output ``(height, width)``.
    channels : {1, 3}

    Returns
    -------
    tf.Tensor
        ``(height, width, channels)`` ``uint8``.
    """
    tf = tensorflow()
    size = _check_size(image_size, channels)
    image = tf.cast(tf.io.decode_image(data, channels=3, expand_animations=False), tf.float32)
    if channels == 1:
        image = tf.reduce_mean(image, axis=-1, keepdims=True)
    image = tf.image.resize(image, size, method="bicubic", antialias=True)
    image = tf.cast(tf.round(tf.clip_by_value(image, 0.0, 255.0)), tf.uint8)
    return tf.ensure_shape(image, (*size, channels))


def _pair_paths(pairs: str | os.PathLike | tuple) -> tuple[str, str]:
    if isinstance(pairs, (tuple, list)):
        positive, negative = (str(p) for p in pairs)
    else:
        positive, negative = (str(Path(pairs) / name) for name in PAIR_FILE_NAMES)
    for path in (positive, negative):
        if not Path(path).is_file():
            raise DatasetNotFoundError("pair file", path, "the pairs argument",
                                       "Write the pair files with `python -m siamese_lessons make-pairs` "
                                       "or siamese_lessons.pairgen.write_pair_files.")
    return positive, negative


def pair_file_dataset(
    pairs: str | os.PathLike | tuple,
    root: str | os.PathLike,
    *,
    image_size: Sequence[int],
    channels: int = 3,
    batch_size: int,
    shuffle_buffer: int = 10_000,
    seed: int = 0,
    repeat: bool = True,
    deterministic: bool = True,
    num_shards: int = 1,
    shard_index: int = 0,
):
    """Stream ``((left, right), label)`` batches from the seed's two pair files.

    Each file is read line by line (never whole), parsed, repeated, and the
    two streams are mixed 50/50 so every batch is balanced in expectation;
    a shuffle buffer mixes nearby lines; images are read, decoded and resized
    in parallel (``AUTOTUNE``) and prefetched. (Training distortions are a layer
    of the model, :func:`~siamese_lessons.models.with_augmentation`.)

    Parameters
    ----------
    pairs : path-like or (path-like, path-like)
        Folder with ``positive_pairs_path.txt`` and ``negative_pairs_path.txt``,
        or the two files.
    root : path-like
        Folder the image paths in the pair files are relative to.
    image_size : (int, int)
    channels : {1, 3}
    batch_size : int
        Pairs per batch (drop remainder: every batch has this size).
    shuffle_buffer : int
        Lines held in the shuffle buffer.
    seed : int
        Seed of mixing and shuffling.
    repeat : bool
        Endless stream (training); ``False`` stops when either file is exhausted.
    deterministic : bool, default=True
        Keep the order of parallel reads, so the same seed gives the same batches
        (and the same training); ``False`` lets a slow read be overtaken, for speed.
    num_shards, shard_index : int
        Read every ``num_shards``-th line starting at ``shard_index`` (one
        input pipeline of several, see :mod:`siamese_lessons.distributed`).

    Returns
    -------
    tf.data.Dataset
        ``((left, right), label)``: ``uint8`` ``(batch, H, W, C)`` twice and
        float32 ``(batch,)`` labels (1 = same identity), as
        :func:`~siamese_lessons.datasets.pair_dataset`'s.

    Raises
    ------
    DatasetNotFoundError
        If a pair file is missing.
    ValueError
        For a bad size, channel count or batch size. A malformed line or a
        missing or corrupt image stops the pipeline with an error naming it.
    """
    tf = tensorflow()
    size = _check_size(image_size, channels)
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not 0 <= shard_index < num_shards:
        raise ValueError(f"shard_index must be in [0, {num_shards}), got {shard_index}")
    positive, negative = _pair_paths(pairs)
    prefix = tf.constant(str(root).rstrip("/") + "/")

    def lines(path: str, label: float):
        ds = tf.data.TextLineDataset(path).shard(num_shards, shard_index)

        def parse(line):
            # '<path a><TAB><path b>' when the paths hold spaces, else the seed's '<path a> <path b>'.
            line = tf.strings.strip(line)
            tabbed = tf.strings.split(line, "\t")
            fields = tf.cond(tf.size(tabbed) > 1, lambda: tabbed, lambda: tf.strings.split(line))
            message = "malformed pair line (expected '<path a> <path b>' or '<path a><TAB><path b>') in"
            check = tf.debugging.Assert(tf.equal(tf.size(fields), 2), [message, path, ":", line])
            with tf.control_dependencies([check]):
                fields = tf.identity(fields)
            return fields[0], fields[1], tf.constant(label, tf.float32)

        ds = ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE)
        return ds.repeat() if repeat else ds

    mixed = tf.data.Dataset.sample_from_datasets([lines(positive, 1.0), lines(negative, 0.0)],
                                                 weights=[0.5, 0.5], seed=seed,
                                                 stop_on_empty_dataset=True)
    if shuffle_buffer > 1:
        mixed = mixed.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)

    def load(a, b, label):
        left = decode_image(tf.io.read_file(tf.strings.join([prefix, a])), size, channels)
        right = decode_image(tf.io.read_file(tf.strings.join([prefix, b])), size, channels)
        return left, right, label

    ds = mixed.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)
    ds = ds.batch(batch_size, drop_remainder=True)
    ds = ds.map(lambda left, right, label: ((left, right), label))
    return ds.prefetch(tf.data.AUTOTUNE)


@dataclasses.dataclass(frozen=True)
class ShardSet:
    """TFRecord shards written by :func:`write_tfrecord_shards` (its ``manifest.json``).

    Attributes
    ----------
    directory : str
    files : tuple of str
        Shard file names, relative to ``directory``.
    image_size : (int, int)
    channels : int
    identities, images : int
        Records (one per identity) and images in all shards.
    bytes : int
        Size of all shards on disk.
    """

    directory: str
    files: tuple[str, ...]
    image_size: tuple[int, int]
    channels: int
    identities: int
    images: int
    bytes: int

    @property
    def paths(self) -> list[str]:
        """Full paths of the shard files."""
        return [str(Path(self.directory) / f) for f in self.files]


_MANIFEST = "manifest.json"


def write_tfrecord_shards(
    images: ImageList,
    out_dir: str | os.PathLike,
    *,
    image_size: Sequence[int],
    channels: int = 3,
    num_shards: int = 8,
    min_images: int = 2,
    quality: int = 95,
    progress: bool = False,
) -> ShardSet:
    """Pack a clean list into TFRecord shards, one record per identity.

    Every image is decoded, resized to ``image_size`` and re-encoded as JPEG
    once, here, instead of in every epoch. A record holds one identity's
    ``images`` (list of JPEG bytes), ``paths`` and ``label``; identities are
    dealt to shards round-robin in label order, so shards hold the same
    number of identities to within one.

    Parameters
    ----------
    images : ImageList
        From :func:`~siamese_lessons.data.read_clean_list` or
        :func:`~siamese_lessons.data.read_image_folder`.
    out_dir : path-like
        Created; holds ``shard-00000-of-000NN.tfrecord`` files and ``manifest.json``.
    image_size : (int, int)
    channels : {1, 3}
    num_shards : int
        At least as many shards as readers (workers x parallel reads) you plan.
    min_images : int, default=2
        Identities with fewer images are left out (and counted in the
        manifest): a P x K batch needs two images of every identity in it.
    quality : int
        JPEG quality.
    progress : bool
        tqdm bar over identities.

    Returns
    -------
    ShardSet

    Raises
    ------
    ValueError
        For bad sizes, fewer identities than shards, or no identity with
        ``min_images`` images. A missing or corrupt image raises an error
        naming the file.
    """
    from tqdm import tqdm

    tf = tensorflow()
    size = _check_size(image_size, channels)
    if num_shards < 1:
        raise ValueError(f"num_shards must be a positive integer, got {num_shards!r}")
    order, classes, starts, counts = group_by_label(images.labels)
    keep = counts >= min_images
    if not keep.any():
        raise ValueError(f"no identity has {min_images} or more images")
    if keep.sum() < num_shards:
        raise ValueError(f"{keep.sum()} identities cannot fill {num_shards} shards; use fewer shards")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = tuple(f"shard-{i:05d}-of-{num_shards:05d}.tfrecord" for i in range(num_shards))
    writers = [tf.io.TFRecordWriter(str(out / name)) for name in names]
    root = Path(images.root)
    n_images = 0

    # One traced call per image instead of a dozen eager operations.
    @tf.function(input_signature=[tf.TensorSpec([], tf.string)])
    def reencode(path):
        return tf.io.encode_jpeg(decode_image(tf.io.read_file(path), size, channels), quality=quality)

    try:
        groups = np.flatnonzero(keep)
        for g, c in enumerate(tqdm(groups, desc="identities", unit="id", disable=not progress)):
            encoded, rel = [], []
            for i in order[starts[c]:starts[c] + counts[c]]:
                path = root / images.paths[i]
                try:
                    encoded.append(reencode(tf.constant(str(path))).numpy())
                except (tf.errors.NotFoundError, tf.errors.InvalidArgumentError) as err:
                    raise ValueError(f"cannot read image {path}: {err.message.splitlines()[0]}") from None
                rel.append(str(images.paths[i]).encode())
            example = tf.train.Example(features=tf.train.Features(feature={
                "images": tf.train.Feature(bytes_list=tf.train.BytesList(value=encoded)),
                "paths": tf.train.Feature(bytes_list=tf.train.BytesList(value=rel)),
                "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(classes[c])])),
            }))
            writers[g % num_shards].write(example.SerializeToString())
            n_images += int(counts[c])
    finally:
        for w in writers:
            w.close()
    shards = ShardSet(directory=str(out), files=names, image_size=size, channels=channels,
                      identities=len(groups), images=int(n_images),
                      bytes=sum((out / n).stat().st_size for n in names))
    manifest = {k: v for k, v in dataclasses.asdict(shards).items() if k != "directory"}
    manifest["skipped_identities"] = int((~keep).sum())
    (out / _MANIFEST).write_text(json.dumps(manifest, indent=1))
    return shards


def read_shard_set(directory: str | os.PathLike) -> ShardSet:
    """Read the ``manifest.json`` of a shard folder written by :func:`write_tfrecord_shards`.

    Raises
    ------
    DatasetNotFoundError
        If the folder has no manifest or a listed shard is missing.
    """
    directory = Path(directory)
    manifest = directory / _MANIFEST
    if not manifest.is_file():
        raise DatasetNotFoundError("TFRecord shard manifest", str(manifest), "the shards argument",
                                   "Write shards with siamese_lessons.streaming.write_tfrecord_shards.")
    meta = json.loads(manifest.read_text())
    meta.pop("skipped_identities", None)
    shards = ShardSet(directory=str(directory), **{**meta, "files": tuple(meta["files"]),
                                                   "image_size": tuple(meta["image_size"])})
    for path in shards.paths:
        if not Path(path).is_file():
            raise DatasetNotFoundError("TFRecord shard", path, "the shards argument",
                                       "The manifest lists it; copy the whole shard folder.")
    return shards


def _identity_records(shards: ShardSet, *, shuffle: bool, seed: int, deterministic: bool = True,
                      num_shards: int = 1,
                      shard_index: int = 0):
    """Parsed records ``(images: [n] string, label: int64)`` read from the shards in parallel."""
    tf = tensorflow()
    features = {"images": tf.io.VarLenFeature(tf.string), "label": tf.io.FixedLenFeature([], tf.int64)}
    files = tf.data.Dataset.from_tensor_slices(shards.paths).shard(num_shards, shard_index)
    if shuffle:
        files = files.shuffle(len(shards.paths), seed=seed, reshuffle_each_iteration=True)
    ds = files.interleave(tf.data.TFRecordDataset, cycle_length=min(len(shards.paths), 8),
                          num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic or not shuffle)

    def parse(record):
        ex = tf.io.parse_single_example(record, features)
        return tf.sparse.to_dense(ex["images"]), ex["label"]

    return ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic or not shuffle)


def pk_shard_dataset(
    shards: ShardSet | str | os.PathLike,
    *,
    p: int,
    k: int,
    shuffle_buffer: int = 2_000,
    seed: int = 0,
    deterministic: bool = True,
    num_shards: int = 1,
    shard_index: int = 0,
):
    """Stream P x K batches ``(images, labels)`` from identity shards, endlessly.

    Identities are read from the shards in parallel, shuffled in a buffer of
    ``shuffle_buffer`` identities; of each, ``k`` images are drawn (without
    replacement when it has ``k`` or more, else with replacement), decoded in
    parallel; ``p`` identities make a batch of ``p * k`` images grouped by
    identity. Batches are formed within one pass over the identities (the
    last incomplete batch of a pass is dropped), so no identity appears twice
    in a batch.

    Parameters
    ----------
    shards : ShardSet or path-like
        Shards or their folder.
    p, k : int
        Identities per batch and images per identity (both at least 2).
    shuffle_buffer : int
        Identities held in the shuffle buffer.
    seed : int
    deterministic : bool, default=True
        Keep the order of parallel reads, so the same seed gives the same batches
        and the same training; ``False`` lets a slow read be overtaken, for speed.
    num_shards, shard_index : int
        Read every ``num_shards``-th shard file starting at ``shard_index``
        (one input pipeline of several).

    Returns
    -------
    tf.data.Dataset
        ``(images, labels)``: ``uint8`` ``(p * k, H, W, C)`` and int64 ``(p * k,)``.
    """
    tf = tensorflow()
    shards = shards if isinstance(shards, ShardSet) else read_shard_set(shards)
    if p < 2 or k < 2:
        raise ValueError(f"P x K batches need p >= 2 and k >= 2, got p={p}, k={k}")
    if num_shards > len(shards.files):
        raise ValueError(f"{len(shards.files)} shard files cannot feed {num_shards} input pipelines")
    size, channels = shards.image_size, shards.channels
    smallest = (shards.identities // len(shards.files)) * (len(shards.files) // num_shards)
    if smallest < p:
        raise ValueError(f"an input pipeline reads as few as {smallest} identities, fewer than p={p}")
    ds = _identity_records(shards, shuffle=True, seed=seed, num_shards=num_shards, shard_index=shard_index,
                           deterministic=deterministic)
    ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    ds = tf.data.Dataset.zip((ds, tf.data.Dataset.random(seed=seed + 1).batch(2)))

    def pick(record, rnd):
        encoded, label = record
        n = tf.shape(encoded)[0]
        shuffled = tf.random.experimental.stateless_shuffle(tf.range(n), seed=rnd)
        with_replacement = tf.random.stateless_uniform([k], seed=rnd[::-1], maxval=n, dtype=tf.int32)
        idx = tf.cond(n >= k, lambda: shuffled[:k], lambda: with_replacement)
        chosen = tf.gather(encoded, idx)
        images = tf.map_fn(lambda data: decode_image(data, size, channels), chosen,
                           fn_output_signature=tf.TensorSpec((*size, channels), tf.uint8))
        return images, tf.fill([k], label)

    # Batch within one pass over the identities, then repeat: no identity twice in a batch.
    ds = ds.map(pick, num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)
    ds = ds.batch(p, drop_remainder=True).repeat()
    ds = ds.map(lambda x, y: (tf.reshape(x, (p * k, *size, channels)), tf.reshape(y, (p * k,))))
    return ds.prefetch(tf.data.AUTOTUNE)


def shard_image_dataset(shards: ShardSet | str | os.PathLike, *, batch_size: int = 256):
    """Every image of the shards once, in shard order: ``(images, labels)`` batches.

    For embedding a whole shard set (evaluation, retrieval); deterministic.
    """
    tf = tensorflow()
    shards = shards if isinstance(shards, ShardSet) else read_shard_set(shards)
    size, channels = shards.image_size, shards.channels
    ds = _identity_records(shards, shuffle=False, seed=0)
    ds = ds.flat_map(lambda encoded, label: tf.data.Dataset.from_tensor_slices(
        (encoded, tf.fill(tf.shape(encoded)[:1], label))))
    ds = ds.map(lambda data, label: (decode_image(data, size, channels), label),
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


@dataclasses.dataclass(frozen=True)
class Throughput:
    """What :func:`measure_throughput` measured (after warm-up).

    Attributes
    ----------
    images : int
        Images delivered in the timed batches (a pair counts two).
    batches : int
    seconds : float
    images_per_s, batches_per_s : float
    """

    images: int
    batches: int
    seconds: float

    @property
    def images_per_s(self) -> float:
        return self.images / self.seconds

    @property
    def batches_per_s(self) -> float:
        return self.batches / self.seconds


def count_images(batch) -> int:
    """Images in one batch: ``((left, right), y)`` counts both sides, ``(x, y)`` counts ``x``."""
    x = batch[0] if isinstance(batch, (tuple, list)) and len(batch) == 2 else batch
    if isinstance(x, (tuple, list)):
        return int(sum(np.shape(part)[0] for part in x))
    return int(np.shape(x)[0])


def measure_throughput(batches, *, n_batches: int, warmup: int = 2, progress: bool = False) -> Throughput:
    """Time an input pipeline: images per second over ``n_batches`` after ``warmup``.

    Parameters
    ----------
    batches : iterable
        A ``tf.data.Dataset`` or any iterable of batches in the shapes
        :func:`count_images` understands.
    n_batches : int
        Batches timed (the iterable must have ``warmup + n_batches``).
    warmup : int
        Batches drawn first and not timed (buffers filling, tracing).
    progress : bool
        tqdm bar over the timed batches.

    Returns
    -------
    Throughput
    """
    from tqdm import tqdm

    if n_batches < 1 or warmup < 0:
        raise ValueError(f"need n_batches >= 1 and warmup >= 0, got {n_batches} and {warmup}")
    it = iter(batches)
    try:
        for _ in range(warmup):
            next(it)
        images = 0
        start = time.perf_counter()
        for _ in tqdm(range(n_batches), desc="batches", disable=not progress):
            images += count_images(next(it))
        seconds = time.perf_counter() - start
    except StopIteration:
        raise ValueError(f"the pipeline ended before {warmup} + {n_batches} batches") from None
    return Throughput(images=images, batches=n_batches, seconds=seconds)
