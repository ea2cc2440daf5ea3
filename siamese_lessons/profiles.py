"""Run profiles: one set of sizes for a CPU/CI run, one for the real experiment.

Every notebook and command-line run reads its sizes (image size, number of
pairs, epochs, batch, sweep grid, time caps) from a :class:`Profile`. The same
code runs in both profiles; ``quick`` only shrinks the numbers so that a
notebook finishes in about a minute on two CPU cores, ``full`` reproduces the
experiment the chapter is about.

The profile is chosen by the environment variable ``SIAMESE_LESSONS_PROFILE``:

``quick``
    small sizes for CPUs and CI;
``full``
    the real experiment (meant for a GPU);
``auto`` (default)
    ``full`` when TensorFlow sees a GPU, else ``quick``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from types import MappingProxyType

from .errors import ProfileError

__all__ = ["FULL", "PROFILE_ENV", "PROFILES", "QUICK", "Profile", "get_profile"]

#: Name of the environment variable that selects the profile.
PROFILE_ENV = "SIAMESE_LESSONS_PROFILE"

_VALID = ("quick", "full", "auto")


@dataclasses.dataclass(frozen=True)
class Profile:
    """Sizes of one kind of run.

    Parameters
    ----------
    name : str
        ``"quick"`` or ``"full"``.
    lfw_resize : float or None
        Resize factor applied to LFW images after the crop (scikit-learn's
        ``resize`` semantics: the output side is ``int(resize * side)``);
        ``None`` keeps the full 250x250 images of the LFW seed experiment.
    lfw_color : bool
        Keep RGB channels instead of averaging them to grey.
    face_crop_resize : float or None
        Resize of the classic 125x94 LFW face crop used by the embedding chapters
        (``None`` keeps 125x94).
    max_train_pairs, max_test_pairs : int or None
        Caps on the number of LFW pairs used for training and testing
        (``None``: all of them). Subsets are drawn balanced and seeded.
    epochs : int
        Training epochs.
    batch_size : int
        Batch size (per replica when training is distributed).
    pk : (int, int)
        Identities per batch and images per identity for triplet mining.
    steps_per_epoch : int
        Batches per epoch where data is drawn rather than enumerated (P x K).
    seeds : tuple of int
        Seeds repeated for error bars.
    max_train_seconds : float or None
        Wall-clock cap for one training run (``None``: no cap).
    """

    name: str
    lfw_resize: float | None
    lfw_color: bool
    face_crop_resize: float | None
    max_train_pairs: int | None
    max_test_pairs: int | None
    epochs: int
    batch_size: int
    pk: tuple[int, int]
    steps_per_epoch: int
    seeds: tuple[int, ...]
    max_train_seconds: float | None

    def __post_init__(self) -> None:
        if self.name not in ("quick", "full"):
            raise ProfileError(f"profile name must be 'quick' or 'full', got {self.name!r}")
        if self.lfw_resize is not None and not (0 < self.lfw_resize <= 1):
            raise ValueError(f"lfw_resize must be in (0, 1] or None, got {self.lfw_resize!r}")
        for field in ("epochs", "batch_size"):
            value = getattr(self, field)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{field} must be a positive integer, got {value!r}")
        if not self.seeds:
            raise ValueError("seeds must name at least one seed")

    @property
    def lfw_image_shape(self) -> tuple[int, int]:
        """Height and width of an LFW image (full 250x250 frame) in this profile."""
        side = 250 if self.lfw_resize is None else int(self.lfw_resize * 250)
        return (side, side)

    def describe(self) -> str:
        """One line naming the profile and its main sizes."""
        h, w = self.lfw_image_shape
        pairs = "all" if self.max_train_pairs is None else str(self.max_train_pairs)
        return (
            f"profile={self.name}: LFW {h}x{w} {'RGB' if self.lfw_color else 'grey'}, "
            f"train pairs={pairs}, epochs={self.epochs}, batch={self.batch_size}, "
            f"seeds={len(self.seeds)}"
        )


#: The real experiment: full-resolution LFW, all pairs.
FULL = Profile(
    name="full",
    lfw_resize=None,
    lfw_color=False,
    face_crop_resize=None,
    max_train_pairs=None,
    max_test_pairs=None,
    epochs=30,
    batch_size=64,
    pk=(16, 4),
    steps_per_epoch=500,
    seeds=(0, 1, 2),
    max_train_seconds=None,
)

#: CPU / CI sizes: 62x62 LFW, a few hundred pairs, two epochs.
QUICK = Profile(
    name="quick",
    lfw_resize=0.25,
    lfw_color=False,
    face_crop_resize=0.5,
    max_train_pairs=512,
    max_test_pairs=256,
    epochs=2,
    batch_size=32,
    pk=(8, 4),
    steps_per_epoch=40,
    seeds=(0, 1),
    max_train_seconds=20.0,
)

#: All named profiles.
PROFILES: Mapping[str, Profile] = MappingProxyType({"quick": QUICK, "full": FULL})


def _gpu_available() -> bool:
    from ._tf import gpu_count

    return gpu_count() > 0


def get_profile(name: str | Profile | None = None) -> Profile:
    """Return the active run profile.

    Parameters
    ----------
    name : {"quick", "full", "auto"}, Profile or None
        Profile to use. ``None`` reads ``SIAMESE_LESSONS_PROFILE`` (default
        ``"auto"``). ``"auto"`` picks ``"full"`` when TensorFlow sees a GPU and
        ``"quick"`` otherwise. A :class:`Profile` is returned as it is.

    Returns
    -------
    Profile

    Raises
    ------
    ProfileError
        If the name (or the environment variable) is not a known profile.

    Examples
    --------
    >>> from siamese_lessons import get_profile
    >>> get_profile("quick").epochs
    2
    """
    if isinstance(name, Profile):
        return name
    source = "argument"
    if name is None:
        name = os.environ.get(PROFILE_ENV, "auto")
        source = f"environment variable {PROFILE_ENV}"
    key = str(name).strip().lower()
    if key not in _VALID:
        raise ProfileError(
            f"unknown profile {name!r} (from the {source}); valid profiles are "
            + ", ".join(repr(v) for v in _VALID)
        )
    if key == "auto":
        key = "full" if _gpu_available() else "quick"
    return PROFILES[key]
