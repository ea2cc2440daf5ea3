"""Typed containers returned by the loaders.

All image data is kept as one ``uint8`` table in which each image appears once;
pairs and trials are integer indices into that table. Batches stay ``uint8``
too (:meth:`PairSet.batch`): the models rescale to [0, 1] inside, so a dataset
costs a quarter of the memory of float32 copies and nothing is duplicated per pair.

Label convention (used everywhere in the package)
-------------------------------------------------
``1`` means *same* identity (a genuine pair), ``0`` means *different*
identities (an impostor pair). :data:`SAME` and :data:`DIFFERENT` name them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["DIFFERENT", "PIXEL_MAX", "SAME", "IdentitySet", "ImageList", "OneShotTrials", "PairSet",
           "as_model_input", "load_arrays", "save_arrays"]

#: Label of a pair of images of the same identity.
SAME = 1
#: Label of a pair of images of two different identities.
DIFFERENT = 0


#: A stored ``uint8`` pixel value v reaches a model's layers as ``v / PIXEL_MAX``, in [0, 1]: every
#: tower of :mod:`siamese_lessons.models` starts with ``Rescaling(1 / PIXEL_MAX)``.
PIXEL_MAX = 255.0


def as_model_input(images: np.ndarray) -> np.ndarray:
    """``uint8`` images as the course's models take them: still ``uint8``, with a channel axis.

    Models rescale inside (their first layer is ``Rescaling(1 / PIXEL_MAX)``), so no
    pipeline divides by 255 and batches travel to the device as bytes, a quarter of
    float32's size. This is the one place (with the ``tf.data`` gathers of
    :mod:`~siamese_lessons.datasets`) where a stored table becomes model input.

    Parameters
    ----------
    images : numpy.ndarray
        ``uint8``, ``(n, H, W)`` (grey: a channel axis is added) or ``(n, H, W, C)``.

    Returns
    -------
    numpy.ndarray
        ``(n, H, W, C)`` ``uint8`` (a view of ``images``, not a copy).

    Raises
    ------
    TypeError
        If ``images`` is not ``uint8`` (a float array may already be scaled, and the
        model would scale it again).
    ValueError
        If ``images`` is not 3- or 4-dimensional.

    Examples
    --------
    >>> as_model_input(np.zeros((5, 4, 3), np.uint8)).shape
    (5, 4, 3, 1)
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"images must be uint8 (0-255), got {images.dtype}")
    if images.ndim not in (3, 4):
        raise ValueError(f"images must have shape (n, H, W) or (n, H, W, C), got {images.shape}")
    return images[..., None] if images.ndim == 3 else images


def _check_table(images: np.ndarray, what: str) -> None:
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8:
        raise TypeError(f"{what}.images must be a uint8 numpy array, got "
                        f"{getattr(images, 'dtype', type(images).__name__)}")
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] != 3):
        raise ValueError(f"{what}.images must have shape (n, H, W) or (n, H, W, 3), "
                         f"got {images.shape}")


def _as_index(values, n: int, what: str, shape_tail: tuple[int, ...] = ()) -> np.ndarray:
    arr = np.asarray(values)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{what} must hold integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if shape_tail and arr.shape[1:] != shape_tail:
        raise ValueError(f"{what} must have shape (n, {', '.join(map(str, shape_tail))}), "
                         f"got {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise IndexError(f"{what} refers to image {int(arr.max()) if arr.max() >= n else int(arr.min())}"
                         f", but the image table has {n} images")
    return arr


def _subset_index(index, n: int) -> np.ndarray:
    """``index`` of a ``subset`` call as positions: ints as given, a boolean mask of length
    ``n`` as the positions it selects."""
    index = np.asarray(index)
    if index.dtype == bool:
        if index.shape != (n,):
            raise ValueError(f"boolean index must have shape ({n},), got {index.shape}")
        index = np.flatnonzero(index)
    return index


@dataclasses.dataclass(frozen=True, eq=False)
class PairSet:
    """Image pairs with same/different labels, stored without duplication.

    Attributes
    ----------
    images : numpy.ndarray
        ``(n_images, H, W)`` or ``(n_images, H, W, 3)`` ``uint8`` table; each
        image once.
    pairs : numpy.ndarray
        ``(n_pairs, 2)`` int64 indices into ``images``.
    labels : numpy.ndarray
        ``(n_pairs,)`` int8; :data:`SAME` (1) or :data:`DIFFERENT` (0).
    identities : numpy.ndarray
        ``(n_images,)`` str: the person (class) of each image.
    paths : numpy.ndarray
        ``(n_images,)`` str: the file of each image, relative to the dataset root.
    folds : numpy.ndarray or None
        ``(n_pairs,)`` int8 fold of each pair (LFW View 2), else ``None``.
    name : str
        What the set is, e.g. ``"LFW pairsDevTrain"``.
    """

    images: np.ndarray
    pairs: np.ndarray
    labels: np.ndarray
    identities: np.ndarray
    paths: np.ndarray
    folds: np.ndarray | None = None
    name: str = ""

    def __post_init__(self) -> None:
        _check_table(self.images, "PairSet")
        n = len(self.images)
        pairs = _as_index(self.pairs, n, "PairSet.pairs", (2,))
        labels = np.asarray(self.labels)
        if labels.shape != (len(pairs),):
            raise ValueError(f"PairSet.labels must have shape ({len(pairs)},), got {labels.shape}")
        bad = ~np.isin(labels, (SAME, DIFFERENT))
        if bad.any():
            raise ValueError(f"PairSet.labels must be 1 (same) or 0 (different); "
                             f"label {labels[bad][0].item()!r} at pair {int(np.flatnonzero(bad)[0])}")
        for field in ("identities", "paths"):
            value = np.asarray(getattr(self, field), dtype=str)
            if value.shape != (n,):
                raise ValueError(f"PairSet.{field} must have shape ({n},), got {value.shape}")
            object.__setattr__(self, field, value)
        if self.folds is not None:
            folds = np.asarray(self.folds).astype(np.int8)
            if folds.shape != (len(pairs),):
                raise ValueError(f"PairSet.folds must have shape ({len(pairs)},), got {folds.shape}")
            object.__setattr__(self, "folds", folds)
        object.__setattr__(self, "pairs", pairs)
        object.__setattr__(self, "labels", labels.astype(np.int8))

    def __len__(self) -> int:
        return len(self.pairs)

    def __repr__(self) -> str:
        same = int((self.labels == SAME).sum())
        return (f"PairSet({self.name!r}: {len(self)} pairs ({same} same, {len(self) - same} "
                f"different), {len(self.images)} images of shape {self.images.shape[1:]}, "
                f"{self.images.nbytes / 2**20:.1f} MiB uint8)")

    @property
    def image_shape(self) -> tuple[int, ...]:
        """Shape of one image, ``(H, W)`` or ``(H, W, 3)``."""
        return tuple(self.images.shape[1:])

    @property
    def pair_identities(self) -> np.ndarray:
        """``(n_pairs, 2)`` identity names of the two images of each pair."""
        return self.identities[self.pairs]

    @property
    def people(self) -> frozenset[str]:
        """Every identity that appears in at least one pair."""
        return frozenset(np.unique(self.identities[self.pairs.ravel()]).tolist())

    def distinct_images(
        self, index: Sequence[int] | np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The images used by the pairs at ``index`` (default all), each once.

        Returns
        -------
        used : numpy.ndarray
            Sorted distinct row numbers into ``images``.
        inverse : numpy.ndarray
            ``(n, 2)``: for each selected pair, the positions of its two images in ``used``.
            Score each image once (``f(images[used])``), then pair up rows with ``inverse``.
        """
        idx = np.arange(len(self)) if index is None else np.asarray(index, dtype=np.int64)
        used, inverse = np.unique(self.pairs[idx], return_inverse=True)
        return used, inverse.reshape(-1, 2)

    def subset(self, index: Sequence[int] | np.ndarray, name: str | None = None) -> PairSet:
        """Return the pairs at ``index`` (ints or a boolean mask), sharing the image table."""
        index = _subset_index(index, len(self))
        return dataclasses.replace(
            self,
            pairs=self.pairs[index],
            labels=self.labels[index],
            folds=None if self.folds is None else self.folds[index],
            name=self.name if name is None else name,
        )

    def batch(self, index: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The images (``uint8``, as the models take them) and labels of the pairs at ``index``.

        Returns
        -------
        left, right : numpy.ndarray
            ``(len(index), H, W, C)`` ``uint8`` with a channel axis (C = 1 or 3); see
            :func:`as_model_input`.
        labels : numpy.ndarray
            ``(len(index),)`` float32.
        """
        index = np.asarray(index)
        pairs = self.pairs[index]

        return (as_model_input(self.images[pairs[:, 0]]), as_model_input(self.images[pairs[:, 1]]),
                self.labels[index].astype(np.float32))


@dataclasses.dataclass(frozen=True, eq=False)
class IdentitySet:
    """Images with an integer identity label each (LFW people, Olivetti, Omniglot).

    Attributes
    ----------
    images : numpy.ndarray
        ``(n, H, W)`` or ``(n, H, W, 3)`` ``uint8``.
    labels : numpy.ndarray
        ``(n,)`` int64 index into ``class_names``.
    class_names : numpy.ndarray
        ``(n_classes,)`` str, e.g. person names or ``"Greek/character01"``.
    paths : numpy.ndarray or None
        ``(n,)`` str source file of each image, where there is one.
    groups : dict of str to numpy.ndarray
        Extra per-image integer or string labels, e.g. ``{"alphabet": ..., "drawer": ...}``.
    name : str
        What the set is.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: np.ndarray
    paths: np.ndarray | None = None
    groups: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    name: str = ""

    def __post_init__(self) -> None:
        _check_table(self.images, "IdentitySet")
        n = len(self.images)
        names = np.asarray(self.class_names, dtype=str)
        labels = _as_index(self.labels, len(names), "IdentitySet.labels")
        if labels.shape != (n,):
            raise ValueError(f"IdentitySet.labels must have shape ({n},), got {labels.shape}")
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "class_names", names)
        if self.paths is not None:
            paths = np.asarray(self.paths, dtype=str)
            if paths.shape != (n,):
                raise ValueError(f"IdentitySet.paths must have shape ({n},), got {paths.shape}")
            object.__setattr__(self, "paths", paths)
        for key, value in self.groups.items():
            if np.shape(value) != (n,):
                raise ValueError(f"IdentitySet.groups[{key!r}] must have shape ({n},), "
                                 f"got {np.shape(value)}")

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self) -> str:
        return (f"IdentitySet({self.name!r}: {len(self)} images of {self.n_classes} identities, "
                f"shape {self.images.shape[1:]}, {self.images.nbytes / 2**20:.1f} MiB uint8)")

    @property
    def n_classes(self) -> int:
        """Number of identities that have at least one image."""
        return int(len(np.unique(self.labels)))

    @property
    def identities(self) -> np.ndarray:
        """``(n,)`` identity name of each image."""
        return self.class_names[self.labels]

    def counts(self) -> dict[str, int]:
        """Images per identity, for the identities present."""
        values, counts = np.unique(self.labels, return_counts=True)
        return {str(self.class_names[v]): int(c) for v, c in zip(values, counts, strict=True)}

    def subset(self, index: Sequence[int] | np.ndarray, name: str | None = None) -> IdentitySet:
        """Images at ``index`` (ints or boolean mask). Class names are kept unchanged."""
        index = _subset_index(index, len(self))
        return dataclasses.replace(
            self,
            images=self.images[index],
            labels=self.labels[index],
            paths=None if self.paths is None else self.paths[index],
            groups={k: np.asarray(v)[index] for k, v in self.groups.items()},
            name=self.name if name is None else name,
        )


@dataclasses.dataclass(frozen=True, eq=False)
class ImageList:
    """Image files and their integer labels, without loading any image.

    Returned by :func:`~siamese_lessons.data.read_clean_list` and
    :func:`~siamese_lessons.data.read_image_folder`.

    Attributes
    ----------
    root : str
        Folder the relative paths are relative to.
    paths : numpy.ndarray
        ``(n,)`` str, relative to ``root``.
    labels : numpy.ndarray
        ``(n,)`` int64 label of each file.
    class_names : numpy.ndarray or None
        Name of each label where known (folder names), else ``None``.
    """

    root: str
    paths: np.ndarray
    labels: np.ndarray
    class_names: np.ndarray | None = None

    def __post_init__(self) -> None:
        paths = np.asarray(self.paths, dtype=str)
        labels = np.asarray(self.labels, dtype=np.int64)
        if paths.ndim != 1 or labels.shape != paths.shape:
            raise ValueError(f"ImageList paths and labels must be 1-D of equal length, got "
                             f"{paths.shape} and {labels.shape}")
        object.__setattr__(self, "paths", paths)
        object.__setattr__(self, "labels", labels)
        if self.class_names is not None:
            object.__setattr__(self, "class_names", np.asarray(self.class_names, dtype=str))

    def __len__(self) -> int:
        return len(self.paths)

    def __repr__(self) -> str:
        return (f"ImageList({len(self)} files of {len(np.unique(self.labels))} identities "
                f"under {self.root!r})")

    def absolute_paths(self) -> list[str]:
        """Full path of every file (root joined with the relative path)."""
        import os

        return [os.path.join(self.root, p) for p in self.paths]


@dataclasses.dataclass(frozen=True, eq=False)
class OneShotTrials:
    """N-way one-shot trials: match each query to one of N candidate images.

    Attributes
    ----------
    images : numpy.ndarray
        ``uint8`` image table shared by all trials.
    queries : numpy.ndarray
        ``(n_trials,)`` index of each trial's query image.
    candidates : numpy.ndarray
        ``(n_trials, n_way)`` indices of the candidate images.
    answers : numpy.ndarray
        ``(n_trials,)`` position in ``candidates`` of the correct match.
    runs : numpy.ndarray
        ``(n_trials,)`` run (group) each trial belongs to.
    name : str
        Where the trials come from.
    """

    images: np.ndarray
    queries: np.ndarray
    candidates: np.ndarray
    answers: np.ndarray
    runs: np.ndarray
    name: str = ""

    def __post_init__(self) -> None:
        _check_table(self.images, "OneShotTrials")
        n = len(self.images)
        queries = _as_index(self.queries, n, "OneShotTrials.queries")
        candidates = _as_index(self.candidates, n, "OneShotTrials.candidates")
        if candidates.ndim != 2 or len(candidates) != len(queries):
            raise ValueError(f"OneShotTrials.candidates must have shape ({len(queries)}, n_way), "
                             f"got {candidates.shape}")
        answers = np.asarray(self.answers, dtype=np.int64)
        if answers.shape != queries.shape or (answers.size and (
                answers.min() < 0 or answers.max() >= candidates.shape[1])):
            raise ValueError("OneShotTrials.answers must hold one position in [0, n_way) per trial")
        object.__setattr__(self, "queries", queries)
        object.__setattr__(self, "candidates", candidates)
        object.__setattr__(self, "answers", answers)
        object.__setattr__(self, "runs", np.asarray(self.runs, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.queries)

    def __repr__(self) -> str:
        return (f"OneShotTrials({self.name!r}: {len(self)} trials, {self.n_way}-way, "
                f"{len(np.unique(self.runs))} runs)")

    @property
    def n_way(self) -> int:
        """Number of candidates per trial."""
        return int(self.candidates.shape[1])


# --- Carrying containers to a machine without the datasets ----------------------------------

_CONTAINERS = {cls.__name__: cls for cls in (PairSet, IdentitySet, OneShotTrials)}


def save_arrays(path, **containers) -> Path:
    """Save named containers to one compressed ``.npz`` that :func:`load_arrays` reads back.

    For a machine that has no dataset and no internet (a lent GPU machine): export the
    loaded data here, carry the file, and run from it there, e.g.
    ``save_arrays("omniglot.npz", background=background, trials=trials)``.

    Parameters
    ----------
    path : path-like
    **containers : PairSet, IdentitySet or OneShotTrials
        Each under its own name (letters, digits and ``_``).

    Returns
    -------
    pathlib.Path
    """
    import re

    arrays: dict[str, np.ndarray] = {}
    for key, obj in containers.items():
        if type(obj).__name__ not in _CONTAINERS or not re.fullmatch(r"\w+", key):
            raise TypeError(f"save_arrays takes {sorted(_CONTAINERS)} under plain names, got {key}="
                            f"{type(obj).__name__}")
        arrays[f"{key}/__type__"] = np.array(type(obj).__name__)
        for field in dataclasses.fields(obj):
            value = getattr(obj, field.name)
            if value is None:
                continue
            if isinstance(value, dict):
                for group, member in value.items():
                    arrays[f"{key}/{field.name}/{group}"] = np.asarray(member)
            else:
                arrays[f"{key}/{field.name}"] = np.asarray(value)
    path = Path(path)
    np.savez_compressed(path, **arrays)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def load_arrays(path) -> dict:
    """The containers a :func:`save_arrays` file holds, by name, checked as when loaded."""
    out: dict = {}
    with np.load(path, allow_pickle=False) as z:
        names = sorted({k.split("/", 1)[0] for k in z.files})
        for key in names:
            if f"{key}/__type__" not in z.files:
                raise ValueError(f"{path} is not a save_arrays file: {key!r} has no type")
            cls = _CONTAINERS[str(z[f"{key}/__type__"])]
            kwargs: dict = {}
            for field in dataclasses.fields(cls):
                prefix = f"{key}/{field.name}/"
                members = {k[len(prefix):]: z[k] for k in z.files if k.startswith(prefix)}
                if members:
                    kwargs[field.name] = members
                elif f"{key}/{field.name}" in z.files:
                    value = z[f"{key}/{field.name}"]
                    kwargs[field.name] = str(value) if value.dtype.kind == "U" and value.ndim == 0 else value
            out[key] = cls(**kwargs)
    return out
