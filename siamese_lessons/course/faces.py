"""What the embedding chapters (4 to 8) share: LFW split three ways by person, the
quick profile's face size, the classical baseline and the collapse rule.

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
from ..pairs import check_no_identity_leakage, sample_pairs, split_identities

__all__ = ["QUICK_FACE_RESIZE", "VALIDATION_PAIRS", "VALIDATION_PEOPLE", "FaceData", "face_data",
           "face_embedder", "is_collapsed", "lfw_embedding_data"]

#: Resize of the 125x94 face crop that chapters 5, 6 and 8 train on in the quick profile
#: (31x23): on a CPU a step there costs about a quarter of one at 62x47.
QUICK_FACE_RESIZE = 0.25

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


def lfw_embedding_data(resize: float | None, *, cache: dict | None = None):
    """Identity-labelled training faces and the DevTest pairs, identity-disjoint.

    Both at the classic 125x94 face crop, resized by ``resize``. Training data is
    every LFW image of every person who is not in ``pairsDevTest.txt``; the
    function checks that no test person leaks into it.

    Returns
    -------
    train : IdentitySet
    test : PairSet
    """
    from ..data import LFW_CLASSIC_CROP, load_lfw_pairs, load_lfw_people
    from ..pairs import check_no_identity_leakage, exclude_identities

    cache = {} if cache is None else cache
    key = ("faces", resize)
    if key not in cache:
        test = load_lfw_pairs("test", crop=LFW_CLASSIC_CROP, resize=resize)
        people = load_lfw_people(crop=LFW_CLASSIC_CROP, resize=resize)
        train = exclude_identities(people, test)
        check_no_identity_leakage(train, test, context="embedding chapters")
        cache[key] = (train, test)
    return cache[key]


def face_embedder(input_shape, *, dim: int = 64, seed: int = 0):
    """The embedding network of chapters 4 to 6: a light batch-norm tower (four blocks of
    one 3x3 convolution, 32-64-128-128 filters, no dropout), a ``dim``-number
    projection and L2 normalisation."""
    from ..models import embedding_model, improved_tower

    tower = improved_tower(input_shape, filters=(32, 64, 128, 128), convs_per_block=1, dropout=0.0,
                           embedding_dim=128, seed=seed)
    return embedding_model(tower, dim=dim, seed=seed)


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
