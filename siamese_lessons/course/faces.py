"""What the embedding chapters (4 and 5) share: LFW split three ways by person, the
classical baseline and the collapse rule.

- **training people**: every LFW person outside ``pairsDevTest.txt`` except the
  validation people;
- **validation people**: :data:`VALIDATION_PEOPLE` of those, held out whole; the
  epoch, the threshold and the model a figure shows are chosen on pairs of theirs;
- **test**: the 1,000 DevTest pairs, scored once.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..data.containers import IdentitySet, PairSet
from ..experiments import lfw_embedding_data
from ..pairs import check_no_identity_leakage, sample_pairs, split_identities

__all__ = ["VALIDATION_PAIRS", "VALIDATION_PEOPLE", "FaceData", "face_data", "is_collapsed"]

#: People (with two or more images) held out of training for validation.
VALIDATION_PEOPLE = 200
#: Validation pairs sampled from them (standard error of an accuracy near 0.75: 1.4 points).
VALIDATION_PAIRS = 1000


@dataclasses.dataclass(frozen=True)
class FaceData:
    """The three parts of the embedding chapters' data.

    Attributes
    ----------
    train : IdentitySet
        Training people.
    validation : IdentitySet
        Validation people (disjoint from ``train`` and from ``test``).
    validation_pairs : PairSet
        :data:`VALIDATION_PAIRS` balanced pairs of the validation people.
    test : PairSet
        LFW DevTest.
    """

    train: IdentitySet
    validation: IdentitySet
    validation_pairs: PairSet
    test: PairSet


def face_data(resize: float | None, *, seed: int = 0, cache: dict | None = None) -> FaceData:
    """LFW at the classic 125x94 face crop (resized by ``resize``), split by person into
    training, validation and test; checks that no person is in two parts."""
    everyone, test = lfw_embedding_data(resize, cache=cache)
    train, validation = split_identities(everyone, VALIDATION_PEOPLE, seed=seed)
    held = validation.class_names[np.unique(validation.labels)]
    check_no_identity_leakage(train, held, context="embedding chapters, validation people")
    check_no_identity_leakage(validation, test, context="embedding chapters, validation vs DevTest")
    return FaceData(train=train, validation=validation,
                    validation_pairs=sample_pairs(validation, VALIDATION_PAIRS, seed=seed + 1), test=test)


def is_collapsed(spread: float, margin: float) -> bool:
    """An embedding has collapsed when random faces lie, on average, closer together than
    the margin the loss asks between different people (see
    :func:`~siamese_lessons.evaluation.embedding_spread`): its scores are then noise
    around one point, and no map or gallery drawn from it means anything."""
    return bool(spread < margin)
