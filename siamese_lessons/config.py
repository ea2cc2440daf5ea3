"""The package's one training-configuration type, and the checks every configuration shares.

:class:`TrainConfig` says how one model is optimised: its batch size, learning rate and
length. Every chapter's run type in :mod:`siamese_lessons.course` (``SiameseRun``,
``ContrastiveRun``, ``TripletRun``, ``MarginRun``, ...) and
:class:`siamese_lessons.scale.ScaleConfig` (so the command line's defaults too) extend it with
what they add: a tower, a loss, a margin, a data size. So ``batch_size``, ``learning_rate``,
``epochs`` and ``steps`` mean the same thing, and are checked the same way, wherever a model
is trained.

The length is counted one of two ways, as ``model.fit`` counts it:

* ``steps=None``: ``epochs`` passes over the training data (pairs or images), as many steps
  each as the data makes batches;
* ``steps=N``: ``N`` optimizer steps in all, split into ``epochs`` epochs of
  ``N // epochs`` steps (``N`` must be a multiple of ``epochs``), for data that is drawn
  afresh (P x K batches, streams) rather than passed over.

A run type trains one way and says which in :attr:`TrainConfig.counts`; a length of the
other kind is an error that names the type, never silently ignored.
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

__all__ = ["TrainConfig", "check_pk_batch", "check_positive"]


def check_positive(config: object, *fields: str) -> None:
    """Raise ``ValueError`` naming the first of ``fields`` of ``config`` that is not a
    positive integer (``bool`` is not an integer here)."""
    for field in fields:
        value = getattr(config, field)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{field} must be a positive integer, got {value!r}")


def check_pk_batch(batch_size: int, k: int) -> int:
    """The people ``P`` of a P x K batch of ``batch_size`` images, ``k`` per person; raise
    ``ValueError`` unless ``batch_size = P x k`` with ``P >= 2`` and ``k >= 2`` (a triplet
    needs two people and two images of one of them)."""
    people, rest = divmod(batch_size, k) if k >= 2 else (0, 0)
    if k < 2 or rest or people < 2:
        raise ValueError(f"a P x K batch needs batch_size = P x k with P >= 2 people and k >= 2 images "
                         f"each, got batch_size={batch_size}, k={k}")
    return people


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """How one model is optimised: batch size, learning rate and length.

    Subclasses add what their trainer needs and set :attr:`counts`.

    Attributes
    ----------
    batch_size : int
        Examples per optimizer step (per replica in :mod:`~siamese_lessons.scale`): pairs
        for the pair losses, images for P x K and classifier batches.
    learning_rate : float
        Adam's (initial) learning rate.
    epochs : int
        Passes over the training data (``steps=None``), or the number of parts ``steps`` is
        split into (history rows, epoch-wise choices).
    steps : int or None
        Optimizer steps of the whole run; ``None`` when the run counts passes.
    counts : {"passes", "steps"}
        Class attribute: how the subclass's trainer counts its length. ``"passes"`` needs
        ``steps=None``, ``"steps"`` needs ``steps``.

    Raises
    ------
    ValueError
        A size that is not a positive integer, a learning rate that is not a positive
        finite number, or a length of the kind the type does not train by.
    """

    counts: ClassVar[str] = "passes"

    batch_size: int
    learning_rate: float
    epochs: int = 1
    steps: int | None = None

    def __post_init__(self) -> None:
        check_positive(self, "batch_size", "epochs")
        rate = self.learning_rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not (0 < rate < math.inf):
            raise ValueError(f"learning_rate must be a positive finite number, got {rate!r}")
        name = type(self).__name__
        if self.counts == "passes" and self.steps is not None:
            raise ValueError(f"{name} trains by passes over its data (epochs); steps must be None, "
                             f"got {self.steps!r}")
        if self.counts == "steps":
            if self.steps is None:
                raise ValueError(f"{name} counts optimizer steps: give steps")
            check_positive(self, "steps")
            if self.steps % self.epochs:
                raise ValueError(f"steps ({self.steps}) must be a multiple of epochs ({self.epochs})")

    @property
    def steps_per_epoch(self) -> int | None:
        """Optimizer steps per epoch (``steps // epochs``), or ``None`` when the run counts
        passes and an epoch is as long as the data."""
        return None if self.steps is None else self.steps // self.epochs
