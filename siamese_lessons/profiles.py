"""Run profiles: one set of sizes for a CPU/CI run, one for the real experiment.

A profile names which sizes a run uses: each chapter's module in
:mod:`siamese_lessons.course` keeps its sizes for both (``SIZES["quick"]``,
``SIZES["full"]``), and a :class:`Profile` holds only what the chapters share (the
LFW image sizes). The same code runs in both profiles; ``quick`` only shrinks the
numbers so that a notebook finishes in minutes on two CPU cores, ``full``
reproduces the experiment the chapter is about.

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

__all__ = ["FULL", "PROFILE_ENV", "PROFILES", "QUICK", "Profile", "check_resize", "get_profile"]

#: Name of the environment variable that selects the profile.
PROFILE_ENV = "SIAMESE_LESSONS_PROFILE"

_VALID = ("quick", "full", "auto")


def check_resize(name: str, value: float | None) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is ``None`` or a resize factor
    in ``(0, 1]`` (scikit-learn's LFW ``resize``: the output side is ``int(value * side)``)."""
    if value is not None and not (0 < value <= 1):
        raise ValueError(f"{name} must be in (0, 1] or None, got {value!r}")


@dataclasses.dataclass(frozen=True)
class Profile:
    """What every chapter shares in one kind of run; each chapter's own sizes (pairs,
    epochs, batches, towers) live in its module of :mod:`siamese_lessons.course`,
    keyed by the profile's name.

    Parameters
    ----------
    name : str
        ``"quick"`` or ``"full"``.
    lfw_resize : float or None
        Resize factor of the full 250x250 LFW frame (scikit-learn's ``resize``
        semantics: the output side is ``int(resize * 250)``); ``None`` keeps the
        250x250 images of the LFW seed experiment. Used where a chapter shows the
        whole frame (the data tour).
    face_crop_resize : float or None
        Default resize of the classic 125x94 LFW face crop (``None`` keeps 125x94):
        the View 2 benchmark uses it. Chapters 4, 5, 6 and 8 set their own
        (``resize`` in their sizes; in the quick profile 31x23, where a CPU trains
        four times the steps of 62x47 in the same time).
    """

    name: str
    lfw_resize: float | None
    face_crop_resize: float | None

    def __post_init__(self) -> None:
        if self.name not in ("quick", "full"):
            raise ProfileError(f"profile name must be 'quick' or 'full', got {self.name!r}")
        for field in ("lfw_resize", "face_crop_resize"):
            check_resize(field, getattr(self, field))

    @property
    def lfw_image_shape(self) -> tuple[int, int]:
        """Height and width of an LFW image (full 250x250 frame) in this profile."""
        from .data._common import output_shape

        return output_shape((250, 250), None, self.lfw_resize)

    @property
    def face_crop_shape(self) -> tuple[int, int]:
        """Height and width of the classic 125x94 LFW face crop in this profile."""
        from .data._common import output_shape
        from .data.lfw import LFW_CLASSIC_CROP

        return output_shape((250, 250), LFW_CLASSIC_CROP, self.face_crop_resize)

    def describe(self) -> str:
        """One line naming the profile and the sizes every chapter shares."""
        (h, w), (fh, fw) = self.lfw_image_shape, self.face_crop_shape
        kind = "CPU/CI sizes" if self.name == "quick" else "the real experiments"
        return (f"profile={self.name} ({kind}): LFW frame {h}x{w}, face crop {fh}x{fw}; "
                f"each chapter's own sizes are in siamese_lessons.course")


#: The real experiments: full-resolution LFW frames and face crops.
FULL = Profile(name="full", lfw_resize=None, face_crop_resize=None)

#: CPU / CI sizes: 62x62 LFW frames, 62x47 face crops.
QUICK = Profile(name="quick", lfw_resize=0.25, face_crop_resize=0.5)

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
    >>> get_profile("quick").face_crop_shape
    (62, 47)
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
