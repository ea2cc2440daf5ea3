"""Omniglot (Lake et al. 2015): background sets, the official one-shot runs, and
a sampler of N-way within-alphabet trials.

Archives are fetched with :func:`keras.utils.get_file` from the official
repository (brendenlake/omniglot) into ``$KERAS_HOME/datasets`` and checked
against their sha256. Images are read straight from the zip files (nothing is
extracted) into ``uint8`` tables of 105x105 pixels, ink = 0 and paper = 255 as
in the files.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from pathlib import Path

import numpy as np

from ..errors import ChecksumError, CorruptArchiveError, CorruptImageError, DatasetNotFoundError
from ._common import keras_home, offline, read_image, sha256_of
from .containers import IdentitySet, OneShotTrials

__all__ = [
    "OMNIGLOT_ARCHIVES",
    "fetch_omniglot_archive",
    "load_omniglot",
    "load_omniglot_one_shot_runs",
    "sample_one_shot_trials",
]

_BASE = "https://github.com/brendenlake/omniglot/raw/master/python/"

#: Official archives: file name -> (url, sha256). The small-set and run digests
#: equal the staged copies; the full-set digests are the ones TensorFlow
#: Datasets records for the same URLs.
OMNIGLOT_ARCHIVES = {
    "images_background.zip": (
        _BASE + "images_background.zip",
        "ad41ab679c8b5d90b271ef46be6987cc81211774a695c29dcc5367b2b26ee640",
    ),
    "images_evaluation.zip": (
        _BASE + "images_evaluation.zip",
        "1f61a8f3366785b057fc117d9228e78a16e3d976c8953b2a10fcc74cf0609cee",
    ),
    "images_background_small1.zip": (
        _BASE + "images_background_small1.zip",
        "f38eb80f801274ac2b4dff5b24289016bfaba4a7d5bb50deebf27104ad6cb8a4",
    ),
    "images_background_small2.zip": (
        _BASE + "images_background_small2.zip",
        "3ccaa407515a8778e5d0861875af38b17e418f301ad5bb3b5a6b65d901a41c7f",
    ),
    "all_runs.zip": (
        _BASE + "one-shot-classification/all_runs.zip",
        "437c1eeab0af8484112e1b4cc0f3d541ec727f7c47b9b202da738af9dfd6c325",
    ),
}

_SETS = {
    "background": ("images_background.zip",),
    "evaluation": ("images_evaluation.zip",),
    "background_small": ("images_background_small1.zip", "images_background_small2.zip"),
    "background_small1": ("images_background_small1.zip",),
    "background_small2": ("images_background_small2.zip",),
}
_SIDE = 105
_IMAGE_RE = re.compile(
    r"^[^/]+/(?P<alphabet>[^/]+)/(?P<character>character\d+)/(?P<file>\d+_(?P<drawer>\d+)\.png)$")
_HOW = ("On a machine with internet access the loader downloads it with "
        "keras.utils.get_file; offline, copy the official zip into $KERAS_HOME/datasets.")


def fetch_omniglot_archive(fname: str, *, download_if_missing: bool | None = None) -> Path:
    """Return the local path of an official Omniglot archive, fetching it if allowed.

    Parameters
    ----------
    fname : str
        A key of :data:`OMNIGLOT_ARCHIVES`.
    download_if_missing : bool or None
        ``None``: download unless ``SIAMESE_LESSONS_OFFLINE=1``.

    Raises
    ------
    DatasetNotFoundError
        If the archive is not cached and cannot be downloaded.
    ChecksumError
        If the cached archive's sha256 is wrong and it cannot be re-downloaded.
    """
    if fname not in OMNIGLOT_ARCHIVES:
        raise ValueError(f"unknown Omniglot archive {fname!r}; choose one of {sorted(OMNIGLOT_ARCHIVES)}")
    url, digest = OMNIGLOT_ARCHIVES[fname]
    home = keras_home()
    target = home / "datasets" / fname
    allowed = (not offline()) if download_if_missing is None else (download_if_missing and not offline())
    if not allowed:
        if not target.is_file():
            raise DatasetNotFoundError("Omniglot", str(target), "KERAS_HOME",
                                       f"Downloads are switched off. {_HOW}")
        actual = sha256_of(target)
        if actual != digest:
            raise ChecksumError(str(target), digest, actual)
        return target
    from .._tf import tensorflow

    tensorflow()  # quiet first import; Keras runs on it
    import keras

    try:
        path = keras.utils.get_file(fname, origin=url, file_hash=digest, hash_algorithm="sha256",
                                    cache_dir=str(home), cache_subdir="datasets")
    except ValueError as exc:  # Keras: downloaded file has the wrong hash
        raise ChecksumError(str(target), digest, f"a mismatch reported by Keras ({exc})") from exc
    except Exception as exc:
        raise DatasetNotFoundError("Omniglot", str(target), "KERAS_HOME",
                                   f"Downloading {url} failed ({exc}). {_HOW}") from exc
    return Path(path)


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise CorruptArchiveError(str(path), str(exc)) from exc


def _decode_png(zf: zipfile.ZipFile, member: str, archive: Path) -> np.ndarray:
    try:
        data = zf.read(member)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:  # CRC errors, truncation
        raise CorruptArchiveError(str(archive), f"{member}: {exc}") from exc
    try:
        return read_image(io.BytesIO(data), expected_frame=(_SIDE, _SIDE))
    except CorruptImageError as exc:
        raise CorruptImageError(f"{archive}!{member}", str(exc).split(": ", 1)[-1]) from exc


def _read_background_zip(path: Path) -> list[tuple[str, str, int, str, np.ndarray]]:
    rows = []
    with _open_zip(path) as zf:
        for member in sorted(zf.namelist()):
            if member.endswith("/"):
                continue
            match = _IMAGE_RE.match(member)
            if match is None:
                raise CorruptArchiveError(str(path), f"unexpected member {member!r}; expected "
                                          "<set>/<alphabet>/characterNN/<id>_<drawer>.png")
            rows.append((match["alphabet"], match["character"], int(match["drawer"]),
                         match["file"], _decode_png(zf, member, path)))
    return rows


def load_omniglot(
    subset: str = "background",
    *,
    download_if_missing: bool | None = None,
) -> IdentitySet:
    """Load an Omniglot image set with alphabet, character and drawer labels.

    Parameters
    ----------
    subset : str, default="background"
        ``"background"`` (30 alphabets, 964 characters), ``"evaluation"`` (20
        alphabets, 659 characters), ``"background_small"`` (the union of the
        two official small background sets: 8 alphabets, 242 characters),
        ``"background_small1"``, ``"background_small2"``, or ``"auto"``: the
        full background set when it can be had, else the small sets with a
        warning that says so.
    download_if_missing : bool or None
        ``None``: download unless ``SIAMESE_LESSONS_OFFLINE=1``.

    Returns
    -------
    IdentitySet
        ``(n, 105, 105)`` uint8 images; ``labels`` index ``class_names`` of the
        form ``"Alphabet/characterNN"``; ``groups`` holds ``"alphabet"`` (str)
        and ``"drawer"`` (int, 1-20) per image.
    """
    if subset == "auto":
        try:
            return load_omniglot("background", download_if_missing=download_if_missing)
        except DatasetNotFoundError as exc:
            # The file by name and the variable that locates it, not the absolute path: notebooks
            # show this warning to readers, and the path is a machine's cache or scratch folder.
            warnings.warn(f"The full Omniglot background set is not available "
                          f"({Path(exc.path).name} is not in ${exc.variable}/datasets and cannot be "
                          "downloaded); using the two official small background sets instead "
                          "(8 alphabets, 242 characters).", stacklevel=2)
            return load_omniglot("background_small", download_if_missing=download_if_missing)
    if subset not in _SETS:
        raise ValueError(f"unknown Omniglot subset {subset!r}; choose one of "
                         f"{sorted(_SETS) + ['auto']}")
    seen: dict[tuple[str, str, str], tuple[int, np.ndarray]] = {}
    for fname in _SETS[subset]:
        archive = fetch_omniglot_archive(fname, download_if_missing=download_if_missing)
        for alphabet, character, drawer, file, image in _read_background_zip(archive):
            key = (alphabet, character, file)
            if key in seen:
                # The two small sets share Greek and Latin: the same drawings twice.
                if not np.array_equal(seen[key][1], image):
                    raise CorruptArchiveError(str(archive), f"{alphabet}/{character}/{file} differs "
                                              "from the copy in another archive")
                continue
            seen[key] = (drawer, image)
    keys = sorted(seen)
    class_of = [f"{a}/{c}" for a, c, _ in keys]
    class_names, labels = np.unique(np.asarray(class_of, dtype=str), return_inverse=True)
    images = np.stack([seen[k][1] for k in keys]) if keys else np.empty((0, _SIDE, _SIDE), np.uint8)
    return IdentitySet(
        images=images,
        labels=labels,
        class_names=class_names,
        paths=np.asarray([f"{a}/{c}/{f}" for a, c, f in keys], dtype=str),
        groups={
            "alphabet": np.asarray([a for a, _, _ in keys], dtype=str),
            "drawer": np.asarray([seen[k][0] for k in keys], dtype=np.int64),
        },
        name=f"Omniglot {subset}",
    )


def load_omniglot_one_shot_runs(*, download_if_missing: bool | None = None) -> OneShotTrials:
    """The official 20-way one-shot evaluation: 20 runs x 20 trials (``all_runs.zip``).

    In each run, 20 query images (``test/itemNN.png``) are each matched to one
    of the same 20 candidate images (``training/classNN.png``), drawn by a
    different person; ``class_labels.txt`` gives the right answer. This is the
    evaluation Koch et al. (2015) report (92.0 %) and Lake et al. defined.

    Returns
    -------
    OneShotTrials
        400 trials; ``runs`` holds the run number (1-20) of each trial.

    Raises
    ------
    CorruptArchiveError
        If a run's files or answer key are missing or malformed.
    """
    archive = fetch_omniglot_archive("all_runs.zip", download_if_missing=download_if_missing)
    images, index = [], {}
    queries, candidates, answers, runs = [], [], [], []
    with _open_zip(archive) as zf:
        names = set(zf.namelist())

        def image_id(member: str) -> int:
            if member not in index:
                if member not in names:
                    raise CorruptArchiveError(str(archive), f"missing member {member}")
                index[member] = len(images)
                images.append(_decode_png(zf, member, archive))
            return index[member]

        run_names = sorted({n.split("/", 1)[0] for n in names if re.match(r"^run\d+/", n)})
        if not run_names:
            raise CorruptArchiveError(str(archive), "no runNN/ folders")
        for run in run_names:
            key = f"{run}/class_labels.txt"
            if key not in names:
                raise CorruptArchiveError(str(archive), f"missing {key}")
            lines = zf.read(key).decode("utf-8").split("\n")
            pairs = [line.split() for line in lines if line.strip()]
            if any(len(p) != 2 for p in pairs):
                raise CorruptArchiveError(str(archive), f"{key}: every line must be "
                                          "'<test image> <training image>'")
            classes = sorted(f"{run}/training/{n.rsplit('/', 1)[-1]}" for n in names
                             if n.startswith(f"{run}/training/") and n.endswith(".png"))
            cand_ids = [image_id(c) for c in classes]
            for test_member, train_member in pairs:
                if train_member not in classes:
                    raise CorruptArchiveError(str(archive), f"{key}: {train_member} is not a "
                                              f"training image of {run}")
                queries.append(image_id(test_member))
                candidates.append(cand_ids)
                answers.append(classes.index(train_member))
                runs.append(int(run[3:]))
    return OneShotTrials(images=np.stack(images), queries=np.asarray(queries),
                         candidates=np.asarray(candidates), answers=np.asarray(answers),
                         runs=np.asarray(runs), name="Omniglot official 20-way one-shot runs")


def sample_one_shot_trials(
    dataset: IdentitySet,
    n_trials: int,
    *,
    n_way: int = 20,
    seed: int = 0,
    within_alphabet: bool = True,
) -> OneShotTrials:
    """Draw N-way one-shot trials from an Omniglot set, as the official runs do.

    For each trial: pick an alphabet with at least ``n_way`` characters (or
    any characters when ``within_alphabet=False``), pick ``n_way`` of its
    characters and two different drawers; the candidates are the characters
    as drawn by the first drawer, the query is the first character as drawn by
    the second. Candidates are shuffled, so the answer position is uniform.

    Parameters
    ----------
    dataset : IdentitySet
        From :func:`load_omniglot` (needs ``groups["alphabet"]`` and ``groups["drawer"]``).
    n_trials : int
        Number of trials.
    n_way : int, default=20
        Candidates per trial.
    seed : int, default=0
        Seed of the sampler; the same seed gives the same trials.
    within_alphabet : bool, default=True
        Draw the candidates of a trial from one alphabet (harder, the standard).

    Returns
    -------
    OneShotTrials
        Sharing ``dataset.images``; ``runs`` is the trial number.
    """
    for key in ("alphabet", "drawer"):
        if key not in dataset.groups:
            raise ValueError(f"dataset.groups has no {key!r}; use a set from load_omniglot")
    if n_trials < 1 or n_way < 2:
        raise ValueError(f"need n_trials >= 1 and n_way >= 2, got {n_trials} and {n_way}")
    rng = np.random.default_rng(seed)
    alphabet = np.asarray(dataset.groups["alphabet"])
    drawer = np.asarray(dataset.groups["drawer"])
    lookup = {(int(c), int(d)): i for i, (c, d) in enumerate(zip(dataset.labels, drawer, strict=True))}
    char_alphabet = {int(c): str(a) for c, a in zip(dataset.labels, alphabet, strict=True)}
    pools = {}
    for c, a in char_alphabet.items():
        pools.setdefault(a if within_alphabet else "*", []).append(c)
    pools = {a: sorted(cs) for a, cs in pools.items() if len(cs) >= n_way}
    if not pools:
        raise ValueError(f"no {'alphabet' if within_alphabet else 'set'} has {n_way} characters")
    pool_names = sorted(pools)
    drawers = np.unique(drawer)
    queries, candidates, answers = [], [], []
    for _ in range(n_trials):
        chars = rng.choice(pools[pool_names[rng.integers(len(pool_names))]], n_way, replace=False)
        for _attempt in range(100):
            d_support, d_query = rng.choice(drawers, 2, replace=False)
            if all((int(c), int(d_support)) in lookup for c in chars) and \
                    (int(chars[0]), int(d_query)) in lookup:
                break
        else:
            raise ValueError("could not find two drawers who drew all the chosen characters")
        cand = [lookup[(int(c), int(d_support))] for c in chars]
        order = rng.permutation(n_way)
        queries.append(lookup[(int(chars[0]), int(d_query))])
        candidates.append([cand[k] for k in order])
        answers.append(int(np.flatnonzero(order == 0)[0]))
    return OneShotTrials(images=dataset.images, queries=np.asarray(queries),
                         candidates=np.asarray(candidates), answers=np.asarray(answers),
                         runs=np.arange(n_trials), name=f"{n_way}-way trials from {dataset.name}")


