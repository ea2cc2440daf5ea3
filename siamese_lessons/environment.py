"""What a notebook prints first: versions, devices and the active profile."""

from __future__ import annotations

import platform
from importlib import metadata

from .profiles import Profile, get_profile

__all__ = ["describe_environment", "show_environment"]

_PACKAGES = ("siamese-lessons", "tensorflow", "keras", "scikit-learn", "numpy")


def describe_environment(profile: Profile | None = None) -> dict[str, str]:
    """Versions of Python and the main libraries, the Keras backend, the GPUs it sees,
    and the active profile.

    Parameters
    ----------
    profile : Profile or None
        The profile to report; ``None`` resolves it with :func:`get_profile`.

    Returns
    -------
    dict of str to str
    """
    from ._tf import backend_name, gpu_count

    info = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            info[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            info[name] = "not installed"
    gpus = gpu_count()
    info["keras backend"] = backend_name()
    info["devices"] = f"{gpus} GPU(s)" if gpus else "CPU only"
    info["profile"] = (profile or get_profile()).describe()
    return info


def _in_jupyter_kernel() -> bool:
    """True inside a running Jupyter (ipykernel) shell; merely importing ipykernel, as test
    runners that execute notebooks do, does not count."""
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def _plain_warning(message, category, filename, lineno, line=None) -> str:
    return f"{category.__name__}: {message}\n"


def show_environment(profile: Profile | None = None) -> Profile:
    """Print :func:`describe_environment` and return the active profile.

    In a Jupyter kernel it also makes warnings print as ``UserWarning: message``, without
    the path of the kernel's temporary cell file (``/tmp/ipykernel_.../...py:3:``), which
    means nothing to a reader of the executed chapter.
    """
    import warnings

    if _in_jupyter_kernel():
        warnings.formatwarning = _plain_warning
    profile = profile or get_profile()
    for key, value in describe_environment(profile).items():
        print(f"{key:>14}: {value}")
    return profile
