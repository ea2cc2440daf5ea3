"""siamese_lessons: the package behind the *Siamese Lessons* course.

Siamese networks for face verification with TensorFlow/Keras: datasets, pair
sampling, models, losses, evaluation and scale-out training, used by the book's
chapters and importable in your own projects.

Label convention: ``1`` = same identity, ``0`` = different identities.
"""

from __future__ import annotations

import os

from . import _tf  # noqa: F401  (records the user's TF_CPP_MIN_LOG_LEVEL first)

# Quiet TensorFlow's C++ info and warning logs unless the user chose a level.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from .environment import describe_environment, show_environment  # noqa: E402
from .profiles import FULL, PROFILE_ENV, QUICK, Profile, get_profile  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "FULL",
    "PROFILE_ENV",
    "QUICK",
    "Profile",
    "__version__",
    "describe_environment",
    "get_profile",
    "show_environment",
]
