"""Exceptions raised by :mod:`siamese_lessons`.

Every error names the thing that is wrong (a path, a line number, a value) and,
where it helps, what to do about it. Each class also derives from the closest
built-in exception so that ``except FileNotFoundError`` or ``except ValueError``
keeps working in user code.
"""

from __future__ import annotations

__all__ = [
    "CheckpointError",
    "CheckpointFallbackWarning",
    "ChecksumError",
    "CorruptArchiveError",
    "CorruptImageError",
    "DatasetNotFoundError",
    "IdentityLeakageError",
    "MalformedLineError",
    "PeerUnreachableError",
    "ProfileError",
]


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is not on disk and may not (or could not) be downloaded.

    Parameters
    ----------
    dataset : str
        Human-readable dataset name, e.g. ``"LFW"``.
    path : str
        The path that was looked for.
    variable : str
        The environment variable that points the loader at its cache.
    how : str
        One sentence on how to obtain the data.
    """

    def __init__(self, dataset: str, path: str, variable: str, how: str):
        self.dataset = dataset
        self.path = str(path)
        self.variable = variable
        super().__init__(
            f"{dataset} data not found: {self.path} does not exist. "
            f"Set {variable} to the folder that holds it (currently "
            f"{variable}={_env(variable)!r}). {how}"
        )


class CorruptImageError(ValueError):
    """An image file exists but cannot be decoded."""

    def __init__(self, path: str, reason: str):
        self.path = str(path)
        super().__init__(f"cannot decode image {self.path}: {reason}")


class CorruptArchiveError(ValueError):
    """An archive (zip) is truncated or otherwise unreadable."""

    def __init__(self, path: str, reason: str):
        self.path = str(path)
        super().__init__(
            f"archive {self.path} is corrupt or truncated ({reason}); "
            "delete it and load again to re-download it"
        )


class ChecksumError(ValueError):
    """A cached file does not have the expected sha256 digest."""

    def __init__(self, path: str, expected: str, actual: str):
        self.path = str(path)
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"sha256 mismatch for {self.path}: expected {expected}, got {actual}; "
            "the file is incomplete or not the official one. Delete it and load "
            "again to re-download it"
        )


class MalformedLineError(ValueError):
    """A line of a list file (pairs, clean list) does not have the expected form."""

    def __init__(self, path: str, line_number: int, line: str, expected: str):
        self.path = str(path)
        self.line_number = line_number
        self.line = line
        super().__init__(
            f"{self.path}, line {line_number}: malformed line {line!r}; expected {expected}"
        )


class IdentityLeakageError(ValueError):
    """Training data contains people (or characters) that the evaluation uses."""

    def __init__(self, shared: list[str], context: str = ""):
        self.shared = sorted(shared)
        shown = ", ".join(self.shared[:10]) + (" ..." if len(self.shared) > 10 else "")
        where = f" ({context})" if context else ""
        super().__init__(
            f"{len(self.shared)} identities appear in both training and evaluation "
            f"data{where}: {shown}. Remove them from the training data, e.g. with "
            "siamese_lessons.pairs.exclude_identities"
        )


class ProfileError(ValueError):
    """An unknown run profile was requested."""


def _env(name: str) -> str | None:
    import os

    return os.environ.get(name)


class CheckpointError(RuntimeError):
    """No checkpoint in a run folder can be restored, although some exist."""

    def __init__(self, directory: str, problems: list[str]):
        self.directory = str(directory)
        self.problems = list(problems)
        super().__init__(
            f"no checkpoint in {self.directory} can be restored ({'; '.join(self.problems)}); "
            "nothing was deleted. Move the folder aside, or start over with restart=True "
            "(--restart on the command line), which deletes these checkpoints"
        )


class PeerUnreachableError(ConnectionError):
    """A worker named in ``TF_CONFIG`` did not answer in time, so the cluster cannot form."""

    def __init__(self, peers: list[str], timeout: float):
        self.peers, self.timeout = list(peers), float(timeout)
        super().__init__(
            f"TF_CONFIG worker(s) {', '.join(self.peers)} did not answer within {self.timeout:g} s; start "
            "every worker listed in TF_CONFIG (each with its own task index), check the addresses and "
            "firewalls, or wait longer with peer_timeout (--peer-timeout)")


class CheckpointFallbackWarning(UserWarning):
    """The newest checkpoint was damaged; training resumed from an older one."""
