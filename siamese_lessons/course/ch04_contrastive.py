"""Chapter 4: an embedding trained with the contrastive loss on LFW pairs.

The chapter's embedder (:func:`~siamese_lessons.course.faces.face_embedder`) trains
on pairs of the training people, keeps the epoch with the lowest loss on pairs of
the validation people, and is scored on DevTest with a threshold chosen on those
validation pairs, against its untrained twin and LBP.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from ..augmentation import FLIP, Augmentation
from ..config import TrainConfig, check_positive
from ..losses import ContrastiveLoss
from ..models import siamese_distance_model, with_augmentation
from ..pairs import join_pairs, sample_pairs
from ..profiles import Profile, check_resize, get_profile
from ..training import compile_model, fit_pair_model, fit_slice, image_input_shape
from .faces import QUICK_FACE_RESIZE, FaceData, face_embedder

__all__ = ["SIZES", "ContrastiveRun", "inversion_run", "learning_check", "sizes", "train",
           "train_contrastive"]


def train_contrastive(
    train: Any,
    *,
    n_pairs: int,
    epochs: int,
    batch_size: int = 64,
    margin: float = 1.0,
    learning_rate: float = 1e-3,
    embedding_dim: int = 64,
    invert_labels: bool = False,
    validation: Any = None,
    augmentation: Augmentation | None = FLIP,
    seed: int = 0,
    verbose: int | str = "auto",
):
    """Train an embedding with the contrastive loss on pairs sampled from ``train``.

    Parameters
    ----------
    train : IdentitySet
    n_pairs : int
        Pairs sampled (half same, half different).
    invert_labels : bool
        Train with 0 = same (the classic mistake), to show what it does.
    validation : IdentitySet or None
        People held out of ``train``: the epoch is chosen on pairs of theirs
        (``max(32, n_pairs // 10)``). ``None``: on that many more pairs of ``train``.
    augmentation : Augmentation or None
        Distortions of each training image, inside the model
        (:func:`~siamese_lessons.models.with_augmentation`); ``None``: none. Default:
        horizontal flips (chapter 4's full run and chapter 6's View 2 runs; :data:`SIZES`
        says where each choice was made).

    Returns
    -------
    embedder : keras.Model
    fit : FitResult
    """
    import keras

    from ..pairs import check_no_identity_leakage
    from ..training import split_validation

    keras.utils.set_random_seed(seed)
    n_val = max(32, n_pairs // 10)
    if validation is None:
        pairs = sample_pairs(train, n_pairs + n_val, seed=seed)
        tr, va = split_validation(pairs, n_val, seed=seed)
    else:
        check_no_identity_leakage(train, validation.class_names[np.unique(validation.labels)],
                                  context="contrastive validation people")
        pairs, tr, va = join_pairs(sample_pairs(train, n_pairs, seed=seed),
                                    sample_pairs(validation, n_val, seed=seed + 1))
    if invert_labels:
        pairs = dataclasses.replace(pairs, labels=1 - pairs.labels)
    shape = image_input_shape(pairs.images)
    embedder = face_embedder(shape, dim=embedding_dim, seed=seed)
    # Each branch distorts its training images inside the model; the embedder returned has no such layer.
    trunk = embedder if augmentation is None else with_augmentation(embedder, augmentation, seed=seed)
    model = siamese_distance_model(trunk)
    compile_model(model, optimizer=keras.optimizers.Adam(learning_rate), loss=ContrastiveLoss(margin=margin))
    fit = fit_pair_model(model, pairs, tr, va, epochs=epochs, batch_size=batch_size, seed=seed,
                         verbose=verbose)
    return embedder, fit


@dataclasses.dataclass(frozen=True, kw_only=True)
class ContrastiveRun(TrainConfig):
    """How chapter 4's embedder trains: a :class:`~siamese_lessons.config.TrainConfig`
    (``epochs`` passes over the pairs, ``batch_size`` pairs per step, Adam's
    ``learning_rate``, 1e-3 by default) and the following.

    Attributes
    ----------
    pairs : int
        Training pairs sampled from the training people (half same).
    margin : float
        Contrastive margin (embeddings are on the unit sphere: distances in [0, 2]).
    embedding_dim : int
    augmentation : Augmentation or None
        Distortions of the training images (``None``: none).
    resize : float or None
        Resize of the 125x94 face crop the chapter trains and scores on (``None``: 125x94).
    """

    learning_rate: float = 1e-3
    pairs: int
    margin: float = 1.0
    embedding_dim: int = 64
    augmentation: Augmentation | None = FLIP
    resize: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        check_resize("resize", self.resize)
        check_positive(self, "pairs", "embedding_dim")
        if not 0 < self.margin <= 2:
            raise ValueError(f"margin must be in (0, 2] for unit-length embeddings, got {self.margin}")


#: Chapter 4's sizes by profile name. Quick: 31x23 faces (:data:`~.faces.QUICK_FACE_RESIZE`, as
#: in chapters 5, 6 and 8) and no distortion, the highest mean validation AUC at that size
#: (``benchmarks/results/contrastive_augmentation.json``; DevTest not scored). Full: the
#: 125x94 crop with flips (the ``augmentation`` default), the same benchmark's choice at
#: 62x47 (``contrastive_augmentation_62x47.json``); at 125x94 the choice is still to measure
#: (``--profile full`` on a GPU).
SIZES: Mapping[str, ContrastiveRun] = MappingProxyType({
    "quick": ContrastiveRun(pairs=6_000, epochs=2, batch_size=64, augmentation=None,
                            resize=QUICK_FACE_RESIZE),
    "full": ContrastiveRun(pairs=100_000, epochs=10, batch_size=128),
})


def sizes(profile: Profile | str | None = None) -> ContrastiveRun:
    """Chapter 4's run for ``profile`` (a Profile, its name, or ``None`` for the active one)."""
    return SIZES[get_profile(profile).name]


def inversion_run(run: ContrastiveRun) -> ContrastiveRun:
    """``run`` with a third of its pairs: the size of the chapter's label-inversion demo.

    The mistake shows within a fraction of the budget (at the quick size, 2,000 inverted
    pairs already score a DevTest AUC below the untrained network's), so the demo does
    not pay for a second full training.
    """
    return dataclasses.replace(run, pairs=max(1, run.pairs // 3))


def train(data: FaceData, run: ContrastiveRun, *, invert_labels: bool = False, seed: int = 0,
          verbose: int | str = "auto"):
    """Train the chapter's embedder on ``data.train``, choosing the epoch on ``data.validation``.

    Returns
    -------
    embedder : keras.Model
    fit : FitResult
    """
    return train_contrastive(data.train, n_pairs=run.pairs, epochs=run.epochs, batch_size=run.batch_size,
                             margin=run.margin, learning_rate=run.learning_rate,
                             embedding_dim=run.embedding_dim, invert_labels=invert_labels,
                             validation=data.validation, augmentation=run.augmentation, seed=seed,
                             verbose=verbose)


def learning_check(people, run: ContrastiveRun, *, pairs: int = 64, steps: int = 40, batch_size: int = 16,
                   seed: int = 0):
    """Train ``run``'s embedder and loss on ``pairs`` pairs of ``people`` for ``steps``
    steps; see :func:`~siamese_lessons.training.fit_slice` (distances: lower = same)."""
    import keras

    slice_pairs = sample_pairs(people, pairs, seed=seed)
    keras.utils.set_random_seed(seed)
    model = siamese_distance_model(face_embedder((*slice_pairs.image_shape, 1), dim=run.embedding_dim,
                                                 seed=seed))
    compile_model(model, optimizer=keras.optimizers.Adam(run.learning_rate),
                  loss=ContrastiveLoss(margin=run.margin))
    return fit_slice(model, slice_pairs, steps=steps, batch_size=batch_size, output="distance")
