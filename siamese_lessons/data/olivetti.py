"""Olivetti faces (AT&T / ORL, 40 people x 10 images, 64x64) via scikit-learn."""

from __future__ import annotations

import os
import pickle
import zlib

import numpy as np

from ..errors import CorruptArchiveError, DatasetNotFoundError
from ._common import offline
from .containers import IdentitySet

__all__ = ["load_olivetti"]


def load_olivetti(
    *,
    data_home: str | os.PathLike | None = None,
    download_if_missing: bool | None = None,
) -> IdentitySet:
    """Load the Olivetti faces with :func:`sklearn.datasets.fetch_olivetti_faces`.

    scikit-learn scales the pixels to floats in ``[0, 1]`` (min-max over the
    whole set); they are stored here as ``uint8`` ``round(255 * x)``.

    Parameters
    ----------
    data_home : path-like or None
        scikit-learn data home; default ``$SCIKIT_LEARN_DATA`` or ``~/scikit_learn_data``.
    download_if_missing : bool or None
        ``None``: download unless ``SIAMESE_LESSONS_OFFLINE=1``.

    Returns
    -------
    IdentitySet
        400 images of shape (64, 64); labels 0-39, class names ``"s1"`` ... ``"s40"``
        (the AT&T folder names of the same people).
    """
    from sklearn.datasets import fetch_olivetti_faces

    allowed = (not offline()) if download_if_missing is None else (download_if_missing and not offline())
    from sklearn.datasets import get_data_home

    where = os.path.join(get_data_home(data_home), "olivetti_py3.pkz")
    try:
        bunch = fetch_olivetti_faces(data_home=data_home, download_if_missing=allowed)
    except OSError as exc:
        if os.path.isfile(where):  # there, but unreadable: a truncated or damaged cache file
            raise CorruptArchiveError(where, f"{type(exc).__name__}: {exc}") from exc
        how = ("Downloads are switched off. " if not allowed else f"Downloading failed ({exc}). ")
        raise DatasetNotFoundError("Olivetti faces", where, "SCIKIT_LEARN_DATA",
                                   how + "Online, scikit-learn downloads it; offline, copy "
                                   "olivetti_py3.pkz into that folder.") from exc
    except (EOFError, ValueError, KeyError, IndexError, zlib.error, pickle.UnpicklingError) as exc:
        raise CorruptArchiveError(where, f"{type(exc).__name__}: {exc}") from exc
    images = np.rint(np.asarray(bunch.images) * 255.0).astype(np.uint8)
    labels = np.asarray(bunch.target, dtype=np.int64)
    names = np.asarray([f"s{i + 1}" for i in range(int(labels.max()) + 1)])
    return IdentitySet(images=images, labels=labels, class_names=names, name="Olivetti faces")
