"""Labeled Faces in the Wild: official pairs and identity-labelled people.

Files are found (and, online, downloaded) exactly where scikit-learn keeps them,
``$SCIKIT_LEARN_DATA/lfw_home`` (default ``~/scikit_learn_data``), so a reader's
earlier ``sklearn.datasets.fetch_lfw_pairs`` download is reused and vice versa.
Images are decoded by this package into one ``uint8`` table, each image once;
pixels equal scikit-learn's float arrays (times 255) to within rounding. Tables of
up to 256 MiB are cached decoded in ``lfw_home/siamese_lessons_decoded`` (see
:func:`~siamese_lessons.data._common.decode_table`), as scikit-learn caches its
arrays in ``lfw_home/joblib``; the next load with the same options reads them back.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from ..errors import DatasetNotFoundError, MalformedLineError
from ._common import Crop, decode_table, offline
from .containers import DIFFERENT, SAME, IdentitySet, PairSet

__all__ = [
    "DECODED_CACHE",
    "LFW_CLASSIC_CROP",
    "LFW_CLASSIC_RESIZE",
    "LFW_PAIR_FILES",
    "LFWPairList",
    "lfw_home",
    "load_lfw_pairs",
    "load_lfw_people",
    "read_lfw_pairs_file",
]

#: scikit-learn's default crop around the face (rows 70-195, columns 78-172).
LFW_CLASSIC_CROP: Crop = (slice(70, 195), slice(78, 172))
#: scikit-learn's default resize factor (with the classic crop: 62x47 images).
LFW_CLASSIC_RESIZE = 0.5
#: Official pair files of each subset: View 1 train/test and View 2.
LFW_PAIR_FILES = {"train": "pairsDevTrain.txt", "test": "pairsDevTest.txt", "10_folds": "pairs.txt"}

#: Folder inside ``lfw_home`` of the decoded-table cache; delete it to drop the cache.
DECODED_CACHE = "siamese_lessons_decoded"

_FRAME = (250, 250)
_FOLDER = "lfw_funneled"  # scikit-learn's funneled=True folder
_HOW = (
    "On a machine with internet access the loader downloads it through scikit-learn "
    "(or run sklearn.datasets.fetch_lfw_pairs() once); offline, copy a scikit-learn "
    "'lfw_home' folder (pair files plus lfw_funneled/) into that folder."
)


def lfw_home(data_home: str | os.PathLike | None = None) -> Path:
    """Folder holding LFW: ``<data_home>/lfw_home``.

    ``data_home`` defaults to scikit-learn's: ``$SCIKIT_LEARN_DATA`` or
    ``~/scikit_learn_data``. Nothing is created.
    """
    if data_home is None:
        data_home = os.environ.get("SCIKIT_LEARN_DATA", os.path.join("~", "scikit_learn_data"))
    return Path(data_home).expanduser() / "lfw_home"


def _ensure_lfw(data_home, download_if_missing: bool | None) -> Path:
    """Return ``lfw_home``, downloading through scikit-learn when allowed."""
    home = lfw_home(data_home)
    needed = [home / name for name in LFW_PAIR_FILES.values()] + [home / _FOLDER]
    missing = [p for p in needed if not p.exists()]
    if not missing:
        return home
    allowed = (not offline()) if download_if_missing is None else download_if_missing
    if allowed and not offline():
        from sklearn.datasets._lfw import _check_fetch_lfw  # the download scikit-learn does

        try:
            _check_fetch_lfw(data_home=str(home.parent), funneled=True, download_if_missing=True)
        except Exception as exc:  # network errors come in many types
            raise DatasetNotFoundError("LFW", str(missing[0]), "SCIKIT_LEARN_DATA",
                                       f"Downloading failed ({exc}). {_HOW}") from exc
        return home
    raise DatasetNotFoundError("LFW", str(missing[0]), "SCIKIT_LEARN_DATA",
                               "Downloads are switched off (download_if_missing=False or "
                               f"SIAMESE_LESSONS_OFFLINE=1). {_HOW}")


@dataclasses.dataclass(frozen=True)
class LFWPairList:
    """The content of an LFW pairs file, before any image is read.

    Attributes
    ----------
    names : numpy.ndarray
        ``(n, 2)`` str person of each side.
    numbers : numpy.ndarray
        ``(n, 2)`` int image number (1-based, as in ``Name_0001.jpg``).
    labels : numpy.ndarray
        ``(n,)`` int8, 1 = same person, 0 = different.
    folds : numpy.ndarray
        ``(n,)`` int8 fold of each pair (all 0 for the View 1 files).
    line_numbers : numpy.ndarray
        ``(n,)`` line of each pair in the file (1-based), for error messages.
    path : str
        The file read.
    """

    names: np.ndarray
    numbers: np.ndarray
    labels: np.ndarray
    folds: np.ndarray
    line_numbers: np.ndarray
    path: str

    def relative_paths(self) -> np.ndarray:
        """``(n, 2)`` image paths relative to ``lfw_funneled/``."""
        fmt = np.vectorize(lambda name, num: f"{name}/{name}_{num:04d}.jpg", otypes=[object])
        return fmt(self.names, self.numbers).astype(str)


def read_lfw_pairs_file(path: str | os.PathLike) -> LFWPairList:
    """Parse an official LFW pairs file (``pairsDevTrain.txt``, ``pairs.txt``, ...).

    The first line is ``<n>`` (View 1: n same pairs then n different pairs) or
    ``<folds> <n>`` (View 2: each fold has n same pairs then n different pairs).
    Then one pair per line, tab separated: ``name i j`` (same person) or
    ``name1 i name2 j`` (different people).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    MalformedLineError
        For a header or pair line that does not have this form, or counts that
        disagree with the header; the message names the line number.
    """
    path = os.fspath(path)
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    if not lines:
        raise MalformedLineError(path, 1, "", "a header '<n>' or '<folds> <n>'")
    header = lines[0].split()
    try:
        counts = [int(v) for v in header]
    except ValueError:
        counts = []
    if len(counts) == 1:
        n_folds, per_class = 1, counts[0]
    elif len(counts) == 2:
        n_folds, per_class = counts
    else:
        raise MalformedLineError(path, 1, lines[0], "a header '<n>' or '<folds> <n>'")
    if n_folds < 1 or per_class < 1:
        raise MalformedLineError(path, 1, lines[0], "positive counts in the header")

    names, numbers, labels, line_numbers = [], [], [], []
    for line_number, line in enumerate(lines[1:], start=2):
        fields = line.split("\t") if "\t" in line else line.split()
        try:
            if len(fields) == 3:
                pair = ((fields[0], int(fields[1])), (fields[0], int(fields[2])), SAME)
            elif len(fields) == 4:
                pair = ((fields[0], int(fields[1])), (fields[2], int(fields[3])), DIFFERENT)
            else:
                raise ValueError
        except ValueError:
            raise MalformedLineError(path, line_number, line,
                                     "'name<TAB>i<TAB>j' or 'name1<TAB>i<TAB>name2<TAB>j'") from None
        (a, i), (b, j), label = pair
        if i < 1 or j < 1 or not a or not b:
            raise MalformedLineError(path, line_number, line, "image numbers of 1 or more")
        names.append((a, b))
        numbers.append((i, j))
        labels.append(label)
        line_numbers.append(line_number)

    expected = n_folds * 2 * per_class
    if len(labels) != expected:
        raise MalformedLineError(path, len(lines), lines[-1],
                                 f"{expected} pairs as the header says, found {len(labels)}")
    labels_arr = np.asarray(labels, dtype=np.int8)
    position = np.arange(expected) % (2 * per_class)
    want = np.where(position < per_class, SAME, DIFFERENT)
    wrong = np.flatnonzero(labels_arr != want)
    if wrong.size:
        k = int(wrong[0])
        raise MalformedLineError(path, line_numbers[k], lines[line_numbers[k] - 1],
                                 f"a {'same' if want[k] == SAME else 'different'}-person pair "
                                 f"here ({per_class} of each per fold, same first)")
    return LFWPairList(
        names=np.asarray(names, dtype=str).reshape(-1, 2),
        numbers=np.asarray(numbers, dtype=np.int64).reshape(-1, 2),
        labels=labels_arr,
        folds=(np.arange(expected) // (2 * per_class)).astype(np.int8),
        line_numbers=np.asarray(line_numbers, dtype=np.int64),
        path=path,
    )


def load_lfw_pairs(
    subset: str = "train",
    *,
    color: bool = False,
    crop: Crop | None = None,
    resize: float | None = None,
    data_home: str | os.PathLike | None = None,
    download_if_missing: bool | None = None,
    progress: bool = False,
) -> PairSet:
    """Load official LFW pairs as a :class:`~siamese_lessons.data.PairSet`.

    Parameters
    ----------
    subset : {"train", "test", "10_folds"}, default="train"
        ``"train"``: View 1 ``pairsDevTrain.txt`` (1,100 same + 1,100 different);
        ``"test"``: View 1 ``pairsDevTest.txt`` (500 + 500);
        ``"10_folds"``: View 2 ``pairs.txt`` (10 folds of 300 + 300), with
        ``folds`` set.
    color : bool, default=False
        Keep RGB; otherwise grey (mean of the channels, as scikit-learn).
    crop : (slice, slice) or None, default=None
        Rows and columns to keep. ``None`` keeps the full 250x250 frame (the
        LFW seed experiment); :data:`LFW_CLASSIC_CROP` is scikit-learn's default.
    resize : float or None, default=None
        Resize factor after the crop (:data:`LFW_CLASSIC_RESIZE` is
        scikit-learn's default).
    data_home : path-like or None
        scikit-learn data home; default ``$SCIKIT_LEARN_DATA`` or ``~/scikit_learn_data``.
    download_if_missing : bool or None
        Download missing files through scikit-learn. ``None``: yes, unless
        ``SIAMESE_LESSONS_OFFLINE=1``.
    progress : bool, default=False
        Show a progress bar while decoding.

    Returns
    -------
    PairSet
        One ``uint8`` image table (each image once), ``(n, 2)`` pair indices,
        labels (1 = same person, 0 = different), identities, paths and, for
        ``"10_folds"``, the fold (0-9) of each pair.

    Raises
    ------
    DatasetNotFoundError
        If LFW is not on disk and cannot be downloaded.
    FileNotFoundError
        If a pair names an image that does not exist (file and line given).
    CorruptImageError
        If an image cannot be decoded.

    Examples
    --------
    >>> from siamese_lessons.data import load_lfw_pairs          # doctest: +SKIP
    >>> train = load_lfw_pairs("train")                           # doctest: +SKIP
    >>> train.images.shape, train.pairs.shape                     # doctest: +SKIP
    ((3443, 250, 250), (2200, 2))
    """
    if subset not in LFW_PAIR_FILES:
        raise ValueError(f"subset={subset!r} is invalid; choose one of {sorted(LFW_PAIR_FILES)}")
    home = _ensure_lfw(data_home, download_if_missing)
    spec = read_lfw_pairs_file(home / LFW_PAIR_FILES[subset])
    rel = spec.relative_paths()
    unique, inverse = np.unique(rel.ravel(), return_inverse=True)
    folder = home / _FOLDER
    for k, relpath in enumerate(unique):
        if not (folder / relpath).is_file():
            row = int(np.flatnonzero(inverse == k)[0]) // 2
            raise FileNotFoundError(
                f"{spec.path}, line {spec.line_numbers[row]}: the pair names image {relpath}, "
                f"but {folder / relpath} does not exist")
    images = decode_table([str(folder / p) for p in unique], color=color, crop=crop,
                          resize=resize, frame=_FRAME, progress=progress,
                          description=f"LFW {subset}", cache_dir=home / DECODED_CACHE)
    identities = np.asarray([p.split("/", 1)[0] for p in unique], dtype=str)
    return PairSet(
        images=images,
        pairs=inverse.reshape(-1, 2),
        labels=spec.labels,
        identities=identities,
        paths=unique,
        folds=spec.folds if subset == "10_folds" else None,
        name=f"LFW {LFW_PAIR_FILES[subset]}",
    )


def load_lfw_people(
    min_faces_per_person: int = 0,
    *,
    color: bool = False,
    crop: Crop | None = None,
    resize: float | None = None,
    data_home: str | os.PathLike | None = None,
    download_if_missing: bool | None = None,
    progress: bool = False,
) -> IdentitySet:
    """Load LFW images with identity labels (the data behind ``fetch_lfw_people``).

    People are taken in sorted folder order and images in sorted file order
    (no shuffling; scikit-learn shuffles its copy with seed 42). Identity names
    keep LFW's underscores (``George_W_Bush``), the spelling of the pair files.

    Parameters
    ----------
    min_faces_per_person : int, default=0
        Keep only people with at least this many images.
    color, crop, resize, data_home, download_if_missing, progress
        As in :func:`load_lfw_pairs`. At the full 250x250 frame all 13,233
        grey images take 827 MB; pass ``resize`` to shrink them.

    Returns
    -------
    IdentitySet
        Images, integer labels into ``class_names`` (sorted person names) and
        relative paths.
    """
    if not isinstance(min_faces_per_person, (int, np.integer)) or min_faces_per_person < 0:
        raise ValueError(f"min_faces_per_person must be a non-negative int, got {min_faces_per_person!r}")
    home = _ensure_lfw(data_home, download_if_missing)
    folder = home / _FOLDER
    rel_paths, people = [], []
    for person in sorted(os.listdir(folder)):
        person_dir = folder / person
        if not person_dir.is_dir():
            continue
        files = sorted(os.listdir(person_dir))
        if len(files) >= min_faces_per_person and files:
            rel_paths.extend(f"{person}/{f}" for f in files)
            people.extend([person] * len(files))
    if not rel_paths:
        raise ValueError(f"no person in {folder} has {min_faces_per_person} or more images")
    class_names, labels = np.unique(np.asarray(people, dtype=str), return_inverse=True)
    images = decode_table([str(folder / p) for p in rel_paths], color=color, crop=crop,
                          resize=resize, frame=_FRAME, progress=progress,
                          description="LFW people", cache_dir=home / DECODED_CACHE)
    return IdentitySet(images=images, labels=labels, class_names=class_names,
                       paths=np.asarray(rel_paths, dtype=str),
                       name=f"LFW people (min {min_faces_per_person} images)")
