"""Chapter 5: triplet losses mined online inside P x K batches.

The chapter's embedder (:func:`~siamese_lessons.course.faces.face_embedder`) trains
with each miner on P x K batches of the training people; the model a figure shows
is the one with the best accuracy on pairs of the validation people, and every
model is scored on DevTest with its own validation threshold, against its
untrained twin and LBP, with the collapse rule of
:func:`~siamese_lessons.course.faces.is_collapsed`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from ..augmentation import FACE_AUGMENTATION
from ..config import TrainConfig, check_pk_batch, check_positive
from ..datasets import identity_batch_dataset
from ..losses import MINERS, mined_triplet_loss
from ..models import with_augmentation
from ..pairs import pk_batches
from ..profiles import Profile, check_resize, get_profile
from ..training import TimeLimit, compile_model, fit_identity_slice, image_input_shape
from .faces import QUICK_FACE_RESIZE, FaceData, face_embedder

__all__ = ["MINERS", "SIZES", "TripletRun", "learning_check", "sizes", "train", "train_triplet",
           "train_warm_started"]


def train_triplet(
    train: Any,
    *,
    mining: str,
    pk: tuple[int, int],
    steps_per_epoch: int,
    epochs: int,
    margin: float = 0.2,
    learning_rate: float = 1e-3,
    embedding_dim: int = 64,
    random_batches: bool = False,
    embedder: Any = None,
    seed: int = 0,
    max_seconds: float | None = None,
    verbose: int | str = "auto",
):
    """Train an embedding with a triplet loss mined online inside each batch.

    Parameters
    ----------
    train : IdentitySet
    mining : {"batch_all", "batch_hard", "semi_hard"}
    pk : (int, int)
        Identities per batch and images per identity.
    random_batches : bool
        Draw batches of ``P * K`` random images instead of P x K groups (to show
        why mining needs P x K sampling: random batches rarely hold positives).
    embedder : keras.Model or None
        Continue training this embedder (with a new optimizer) instead of a fresh one:
        e.g. one warmed up with another miner.
    max_seconds : float or None
        Wall-clock cap; training stops after the batch that crosses it.

    Returns
    -------
    embedder : keras.Model
    history : pandas.DataFrame
        Per epoch: ``loss`` and Adam's ``learning_rate``.
    """
    import keras
    import pandas as pd

    loss = mined_triplet_loss(mining, margin)
    keras.utils.set_random_seed(seed)
    p, k = pk
    n = steps_per_epoch * epochs
    if random_batches:
        batches = np.random.default_rng(seed).integers(0, len(train), (n, p * k))
    else:
        batches = pk_batches(train, p, k, n, seed=seed)
    if embedder is None:
        embedder = face_embedder(image_input_shape(train.images), dim=embedding_dim, seed=seed)
    # Training images are distorted inside the model that trains; the embedder returned has no such layer.
    trainer = with_augmentation(embedder, FACE_AUGMENTATION, seed=seed)
    compile_model(trainer, optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
    ds = identity_batch_dataset(train.images, train.labels, batches)
    hist = trainer.fit(ds, epochs=epochs, steps_per_epoch=steps_per_epoch, verbose=verbose, shuffle=False,
                        callbacks=[TimeLimit(max_seconds), keras.callbacks.TerminateOnNaN()])
    frame = pd.DataFrame(hist.history)
    frame.insert(0, "epoch", np.arange(1, len(frame) + 1))
    frame["learning_rate"] = float(learning_rate)
    return embedder, frame


@dataclasses.dataclass(frozen=True, kw_only=True)
class TripletRun(TrainConfig):
    """How chapter 5's embedder trains: a :class:`~siamese_lessons.config.TrainConfig`
    that counts optimizer steps (``steps`` P x K batches in all, each freshly drawn, in
    ``epochs`` epochs; ``batch_size`` images per batch; Adam's ``learning_rate``, 1e-3 by
    default) and the following.

    Attributes
    ----------
    k : int
        Images per person in a batch: a batch holds ``batch_size // k`` people.
    margin : float
    embedding_dim : int
    resize : float or None
        Resize of the 125x94 face crop the chapter trains and scores on (``None``: 125x94).
    """

    counts: ClassVar[str] = "steps"

    learning_rate: float = 1e-3
    k: int = 4
    margin: float = 0.2
    embedding_dim: int = 64
    resize: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        check_resize("resize", self.resize)
        check_positive(self, "k", "embedding_dim")
        check_pk_batch(self.batch_size, self.k)

    @property
    def pk(self) -> tuple[int, int]:
        """People per batch and images per person, ``(batch_size // k, k)``."""
        return self.batch_size // self.k, self.k


#: Chapter 5's sizes by profile name. Quick: 31x23 faces (:data:`~.faces.QUICK_FACE_RESIZE`,
#: as chapters 6 and 8), where a step of 64 faces costs about a quarter of one at 62x47, and
#: 300 steps per miner (about 110 ms a step on one core of a 2-core EPYC; at 300 steps the chosen
#: miner beat its untrained twin and LBP by 4.0 standard errors, at 400 by 5.1); full: the
#: 125x94 crop.
SIZES: Mapping[str, TripletRun] = MappingProxyType({
    "quick": TripletRun(batch_size=64, steps=300, epochs=4, resize=QUICK_FACE_RESIZE),
    "full": TripletRun(batch_size=128, steps=10_000, epochs=20),
})


def sizes(profile: Profile | str | None = None) -> TripletRun:
    """Chapter 5's run for ``profile`` (a Profile, its name, or ``None`` for the active one)."""
    return SIZES[get_profile(profile).name]


def train(data: FaceData, run: TripletRun, mining: str, *, random_batches: bool = False, seed: int = 0,
          verbose: int | str = "auto"):
    """Train the chapter's embedder on ``data.train`` with ``mining`` (one of :data:`MINERS`).

    Returns
    -------
    embedder : keras.Model
    history : pandas.DataFrame
    """
    return train_triplet(data.train, mining=mining, pk=run.pk, steps_per_epoch=run.steps_per_epoch,
                         epochs=run.epochs, margin=run.margin, learning_rate=run.learning_rate,
                         embedding_dim=run.embedding_dim, random_batches=random_batches, seed=seed,
                         verbose=verbose)


def train_warm_started(data: FaceData, run: TripletRun, *, warmup: str = "semi_hard", fraction: float = 0.5,
                       learning_rate_factor: float = 0.03, seed: int = 0, verbose: int | str = "auto"):
    """Batch-hard mining after a warm-up: the first ``fraction`` of ``run``'s epochs with
    ``warmup`` (FaceNet's semi-hard by default), the rest with batch-hard at
    ``learning_rate_factor`` times the learning rate, on the same network. The total
    number of steps is ``run``'s.

    Batch-hard's hardest positives and negatives are, in an untrained network, mostly
    noise; a network that already separates people a little gives it meaningful ones.

    Returns
    -------
    embedder : keras.Model
    history : pandas.DataFrame
        Per epoch: ``loss``, ``learning_rate`` and ``miner`` (the loss of different miners
        is not comparable).
    """
    import pandas as pd

    if not 0 < fraction < 1 or not 0 < learning_rate_factor <= 1:
        raise ValueError(f"fraction must be in (0, 1) and learning_rate_factor in (0, 1], got {fraction} and "
                         f"{learning_rate_factor}")
    if run.epochs < 2:
        raise ValueError("a warm-started run needs at least two epochs")
    first = max(1, min(run.epochs - 1, round(run.epochs * fraction)))
    embedder, warm = train_triplet(data.train, mining=warmup, pk=run.pk, steps_per_epoch=run.steps_per_epoch,
                                   epochs=first, margin=run.margin, learning_rate=run.learning_rate,
                                   embedding_dim=run.embedding_dim, seed=seed, verbose=verbose)
    embedder, hard = train_triplet(data.train, mining="batch_hard", pk=run.pk,
                                   steps_per_epoch=run.steps_per_epoch, epochs=run.epochs - first,
                                   margin=run.margin, learning_rate=run.learning_rate * learning_rate_factor,
                                   embedder=embedder, seed=seed + 1, verbose=verbose)
    history = pd.concat([warm.assign(miner=warmup), hard.assign(miner="batch_hard")], ignore_index=True)
    history["epoch"] = range(1, len(history) + 1)
    return embedder, history


def learning_check(people, run: TripletRun, mining: str = "semi_hard", *, steps: int = 30, seed: int = 0):
    """Train ``run``'s embedder with ``mining`` on one P x K slice of ``people`` for
    ``steps`` steps; see :func:`~siamese_lessons.training.fit_identity_slice`."""
    import keras

    index = pk_batches(people, *run.pk, 1, seed=seed)[0]
    keras.utils.set_random_seed(seed)
    embedder = face_embedder((*people.images.shape[1:3], 1), dim=run.embedding_dim, seed=seed)
    compile_model(embedder, optimizer=keras.optimizers.Adam(run.learning_rate),
                  loss=mined_triplet_loss(mining, run.margin))
    return fit_identity_slice(embedder, people.images[index], people.labels[index], steps=steps)
