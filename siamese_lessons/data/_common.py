"""Plumbing shared by the loaders: cache folders, the offline switch, checksums
and image decoding into ``uint8`` tables."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..errors import ChecksumError, CorruptImageError

#: Set to ``1`` to forbid every download: a missing dataset then raises
#: :class:`~siamese_lessons.errors.DatasetNotFoundError` at once. CI sets it.
OFFLINE_ENV = "SIAMESE_LESSONS_OFFLINE"

#: A crop in scikit-learn's ``slice_`` form: ``(rows, columns)``.
Crop = tuple[slice, slice]


def offline() -> bool:
    """Return True when downloads are forbidden by ``SIAMESE_LESSONS_OFFLINE``."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def keras_home() -> Path:
    """Keras' cache folder: ``$KERAS_HOME``, else ``~/.keras`` (as Keras resolves it)."""
    home = os.environ.get("KERAS_HOME")
    return Path(home) if home else Path("~/.keras").expanduser()


def sha256_of(path: str | os.PathLike) -> str:
    """Hex sha256 digest of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(path: str | os.PathLike, expected: str) -> None:
    """Raise :class:`ChecksumError` unless ``path`` has sha256 ``expected``."""
    actual = sha256_of(path)
    if actual != expected:
        raise ChecksumError(str(path), expected, actual)


def output_shape(frame: tuple[int, int], crop: Crop | None, resize: float | None) -> tuple[int, int]:
    """Height and width after cropping ``frame`` and resizing by ``resize``.

    Follows scikit-learn's LFW convention: the side after the crop is
    ``stop - start`` and the resized side is ``int(resize * side)``.
    """
    if crop is None:
        h, w = frame
    else:
        if len(crop) != 2 or not all(isinstance(s, slice) for s in crop):
            raise ValueError(f"crop must be a pair of slices (rows, columns), got {crop!r}")
        (r, c) = crop
        r0, r1 = r.start or 0, frame[0] if r.stop is None else r.stop
        c0, c1 = c.start or 0, frame[1] if c.stop is None else c.stop
        if not (0 <= r0 < r1 <= frame[0] and 0 <= c0 < c1 <= frame[1]):
            raise ValueError(f"crop {crop!r} does not fit inside a {frame[0]}x{frame[1]} image")
        h, w = r1 - r0, c1 - c0
    if resize is not None:
        if not (resize > 0):
            raise ValueError(f"resize must be a positive float or None, got {resize!r}")
        h, w = int(resize * h), int(resize * w)
        if h < 1 or w < 1:
            raise ValueError(f"resize={resize} leaves no pixels of a {frame} image")
    return h, w


def read_image(
    path: str | os.PathLike | BinaryIO,
    *,
    color: bool = False,
    crop: Crop | None = None,
    resize: float | None = None,
    expected_frame: tuple[int, int] | None = None,
) -> np.ndarray:
    """Decode one image file into a ``uint8`` array.

    Parameters
    ----------
    path : path-like or binary file object
        Image file (any format Pillow reads: JPEG, PNG, PGM, ...).
    color : bool, default=False
        Return ``(H, W, 3)`` RGB; otherwise ``(H, W)`` grey, computed as the
        rounded mean of the R, G and B channels (scikit-learn's LFW grey).
    crop : (slice, slice) or None
        Rows and columns to keep, applied before resizing.
    resize : float or None
        Resize factor applied after the crop (bicubic, like scikit-learn).
    expected_frame : (int, int) or None
        If given, the decoded image must be this ``(height, width)``.

    Returns
    -------
    numpy.ndarray of uint8

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    CorruptImageError
        If the file cannot be decoded or has an unexpected size.
    """
    from PIL import Image, UnidentifiedImageError

    source = path
    path = getattr(path, "name", None) or (os.fspath(path) if not hasattr(path, "read") else "<stream>")
    try:
        with Image.open(source) as img:
            img.load()
            if expected_frame is not None and (img.height, img.width) != tuple(expected_frame):
                raise CorruptImageError(
                    path,
                    f"expected {expected_frame[0]}x{expected_frame[1]} pixels, "
                    f"got {img.height}x{img.width}",
                )
            frame = (img.height, img.width)
            img = img.convert("RGB") if color or img.mode not in ("L", "1") else img.convert("L")
            if crop is not None:
                h, w = output_shape(frame, crop, None)
                top, left = crop[0].start or 0, crop[1].start or 0
                img = img.crop((left, top, left + w, top + h))
            if resize is not None:
                h, w = output_shape((img.height, img.width), None, resize)
                img = img.resize((w, h), Image.Resampling.BICUBIC)
            array = np.asarray(img)
    except FileNotFoundError:
        raise
    except CorruptImageError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise CorruptImageError(path, str(exc)) from exc
    if array.ndim == 3 and not color:
        # Mean of the channels in float, rounded: scikit-learn's grey to within 0.5/255.
        array = np.rint(array.astype(np.float32).mean(axis=2)).astype(np.uint8)
    return np.ascontiguousarray(array, dtype=np.uint8)


def decode_table(
    paths: Sequence[str | os.PathLike],
    *,
    color: bool = False,
    crop: Crop | None = None,
    resize: float | None = None,
    frame: tuple[int, int],
    progress: bool = False,
    description: str = "decoding images",
    cache_dir: str | os.PathLike | None = None,
) -> np.ndarray:
    """Decode many same-sized images into one preallocated ``uint8`` table.

    Every path is decoded once, in two threads (Pillow releases the GIL while
    decoding). The table is allocated up front, so the peak memory is the table
    itself plus a few images.

    With ``cache_dir``, a table of at most :data:`DECODE_CACHE_MAX_BYTES` is also
    saved there as ``.npy`` (written to a temporary name, then renamed, so that
    processes decoding at once never read half a file) and later calls with the
    same files and options load it instead of decoding again, as scikit-learn's
    ``fetch_lfw_people`` caches its arrays. The key covers the decoding options and
    each file's path, size and modification time, so a changed file is decoded
    again; an unreadable cache file is decoded again and replaced; a folder that
    cannot be written leaves the table uncached. Delete the folder to drop the cache.

    Parameters
    ----------
    paths : sequence of path-like
        Image files, all ``frame`` pixels before cropping.
    color, crop, resize
        As in :func:`read_image`.
    frame : (int, int)
        Expected ``(height, width)`` of every file; another size is an error.
    progress : bool, default=False
        Show a tqdm progress bar.
    description : str
        Label of the progress bar.
    cache_dir : path-like or None, default=None
        Folder of the decoded-table cache (created when needed); ``None``: no cache.

    Returns
    -------
    numpy.ndarray
        ``(n, H, W)`` (grey) or ``(n, H, W, 3)`` (colour) ``uint8``.
    """
    h, w = output_shape(frame, crop, resize)
    shape = (len(paths), h, w, 3) if color else (len(paths), h, w)
    cached = None
    if cache_dir is not None and int(np.prod(shape)) <= DECODE_CACHE_MAX_BYTES:
        cached = Path(cache_dir) / f"{_table_key(paths, color, crop, resize, frame)}.npy"
        table = _load_cached_table(cached, shape)
        if table is not None:
            return table
    table = np.empty(shape, dtype=np.uint8)

    def work(i: int) -> None:
        table[i] = read_image(paths[i], color=color, crop=crop, resize=resize, expected_frame=frame)

    from tqdm import tqdm

    workers = min(4, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(work, range(len(paths)))
        for _ in tqdm(results, total=len(paths), desc=description, disable=not progress,
                      unit="img", mininterval=1.0):
            pass
    if cached is not None:
        _save_cached_table(cached, table)
    return table


#: Largest decoded table :func:`decode_table` caches (256 MiB: every LFW image at the
#: quick profile's sizes fits; the full 250x250 frames, 827 MB in grey, are decoded each time).
DECODE_CACHE_MAX_BYTES = 256 * 2**20

# Bump when the decoder's output changes, so that old cache files are not read.
_DECODER_VERSION = 1


def _table_key(paths, color: bool, crop: Crop | None, resize: float | None, frame) -> str:
    crop_key = None if crop is None else tuple((c.start, c.stop) for c in crop)
    digest = hashlib.sha256(repr((_DECODER_VERSION, bool(color), crop_key, resize, tuple(frame))).encode())
    for path in paths:
        stat = os.stat(path)
        digest.update(f"{os.fspath(path)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:32]


def _load_cached_table(path: Path, shape: tuple[int, ...]) -> np.ndarray | None:
    try:
        table = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):  # absent, truncated or not an .npy file
        return None
    return table if table.dtype == np.uint8 and table.shape == shape else None


def _save_cached_table(path: Path, table: np.ndarray) -> None:
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(tmp, table, allow_pickle=False)
        os.replace(tmp, path)
    except OSError:  # a read-only data folder: the table is simply not cached
        tmp.unlink(missing_ok=True)
