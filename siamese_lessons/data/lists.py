"""Image lists without loading images: folders of identities and MS-Celeb-style
clean lists (``relative/path.jpg label`` per line)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import DatasetNotFoundError, MalformedLineError
from .containers import ImageList

__all__ = ["IMAGE_EXTENSIONS", "check_images", "read_clean_list", "read_image_folder", "write_clean_list"]

#: File endings treated as images by :func:`read_image_folder`.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".pgm", ".bmp", ".ppm", ".webp")


def read_image_folder(
    root: str | os.PathLike,
    *,
    extensions: tuple[str, ...] = IMAGE_EXTENSIONS,
    min_images: int = 1,
) -> ImageList:
    """List a folder-of-identities dataset: ``root/<identity>/<image>``.

    Identities are the sub-folders in sorted order (label 0, 1, ...); images
    are their files with one of ``extensions`` (case-insensitive), sorted.
    Hidden folders and files (names starting with ``.``, such as
    ``.ipynb_checkpoints`` or ``.DS_Store``) are not identities or images.

    Parameters
    ----------
    root : path-like
        The dataset folder (e.g. ``att_faces`` or ``lfw_funneled``).
    extensions : tuple of str
        File endings to include.
    min_images : int, default=1
        An identity folder with fewer images is an error (it could not give
        the pairs the caller needs); lower it to 0 to allow empty folders.

    Returns
    -------
    ImageList
        Relative paths, labels and ``class_names`` (folder names).

    Raises
    ------
    DatasetNotFoundError
        If ``root`` is not a folder.
    ValueError
        If there is no identity folder, or one has fewer than ``min_images`` images.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetNotFoundError("image folder", str(root), "the root argument",
                                   "Pass the folder that holds one sub-folder per identity.")
    exts = tuple(e.lower() for e in extensions)
    names, paths, labels = [], [], []
    for person in sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(f.name for f in (root / person).iterdir()
                       if f.is_file() and not f.name.startswith(".") and f.name.lower().endswith(exts))
        if len(files) < min_images:
            raise ValueError(f"identity folder {root / person} has {len(files)} images with "
                             f"endings {exts}; at least {min_images} needed")
        label = len(names)
        names.append(person)
        paths.extend(f"{person}/{f}" for f in files)
        labels.extend([label] * len(files))
    if not names:
        raise ValueError(f"{root} has no identity sub-folders")
    return ImageList(root=str(root), paths=np.asarray(paths, dtype=str),
                     labels=np.asarray(labels, dtype=np.int64), class_names=np.asarray(names))


def read_clean_list(path: str | os.PathLike, *, root: str | os.PathLike | None = None) -> ImageList:
    """Read an MS-Celeb-style clean list: one ``relative/path.jpg <label>`` per line.

    Fields are separated by whitespace; the label is a non-negative integer of at
    most 18 digits. A UTF-8 byte-order mark at the start is ignored. No image is
    opened.

    Parameters
    ----------
    path : path-like
        The list file (e.g. ``MS-Celeb-1M_clean_list.txt``).
    root : path-like or None
        Folder the image paths are relative to; default: the list's folder.

    Returns
    -------
    ImageList

    Raises
    ------
    DatasetNotFoundError
        If the list file does not exist.
    MalformedLineError
        For a blank line, a line without exactly two fields, a label that is not
        a non-negative integer of at most 18 digits, text that is not UTF-8, or a path
        listed twice (with the same label: a duplicate that would pair an image
        with itself; with another label: a conflict that would pair it with
        itself as a different person); the message names the line number (and
        the earlier line of a repeated path).
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetNotFoundError("clean list", str(path), "the path argument",
                                   "Pass a text file of 'relative/path.jpg label' lines.")
    paths, labels = [], []
    first_line: dict[str, int] = {}
    expected = "'relative/path.jpg <integer label>'"
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise MalformedLineError(str(path), number, raw.rstrip(b"\n").decode("utf-8", "replace"),
                                         f"UTF-8 text ({exc.reason} at byte {exc.start})") from None
            fields = line.split()
            if len(fields) != 2:
                raise MalformedLineError(str(path), number, line.rstrip("\n"), expected)
            rel, label = fields
            if not (label.isascii() and label.isdigit()) or len(label) > 18:
                raise MalformedLineError(str(path), number, line.rstrip("\n"),
                                         expected + " with a non-negative integer label of at most 18 digits")
            if rel in first_line:
                earlier = first_line[rel]
                kind = ("listed again with the same label" if labels[earlier - 1] == int(label)
                        else f"listed again with another label ({labels[earlier - 1]} on line {earlier})")
                raise MalformedLineError(str(path), number, line.rstrip("\n"),
                                         f"each image once; {rel!r} is {kind}, first on line {earlier}")
            first_line[rel] = number
            paths.append(rel)
            labels.append(int(label))
    if not paths:
        raise ValueError(f"clean list {path} has no entries")
    return ImageList(root=str(path.parent if root is None else Path(root)),
                     paths=np.asarray(paths, dtype=str), labels=np.asarray(labels, dtype=np.int64))


def write_clean_list(images: ImageList, path: str | os.PathLike) -> Path:
    """Write ``images`` as an MS-Celeb-style clean list (``relative/path.jpg <label>`` per line).

    The inverse of :func:`read_clean_list`: reading the file back with
    ``root=images.root`` gives the same paths and labels. Use it to put any
    identity-folder dataset (LFW, your own) into the format the MS-Celeb
    tools take.

    Raises
    ------
    ValueError
        If a path contains whitespace (the format separates fields by it).
    """
    bad = [p for p in images.paths if len(p.split()) != 1]
    if bad:
        raise ValueError(f"clean-list paths cannot contain whitespace: {bad[0]!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(f"{p} {label}\n" for p, label in zip(images.paths, images.labels.tolist(), strict=True))
    return path


def check_images(images: ImageList, *, progress: bool = False) -> None:
    """Open and fully decode every image of ``images`` once, so that a missing or corrupt
    file is named before training starts, not met in the middle of a run.

    Decodes in two threads (Pillow releases the GIL while decoding).

    Raises
    ------
    FileNotFoundError
        For the first missing file (named).
    CorruptImageError
        For the first file that cannot be decoded (named).
    """
    from concurrent.futures import ThreadPoolExecutor

    from tqdm import tqdm

    from ._common import read_image

    paths = images.absolute_paths()
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise FileNotFoundError(f"{len(missing)} listed image(s) do not exist, the first: {missing[0]}")
    with ThreadPoolExecutor(2) as pool:
        for _ in tqdm(pool.map(read_image, paths), total=len(paths), desc="checking images", unit="image",
                      disable=not progress):
            pass
