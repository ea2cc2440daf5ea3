"""Pairs and identities: identity-disjoint training data and the leakage check."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .data.containers import IdentitySet, PairSet
from .errors import IdentityLeakageError

__all__ = ["check_no_identity_leakage", "exclude_identities"]


def _people(evaluation: PairSet | Iterable[str]) -> set[str]:
    if isinstance(evaluation, PairSet):
        return set(evaluation.people)
    if isinstance(evaluation, str):
        raise TypeError("pass a PairSet or a collection of identity names, not one string")
    return {str(name) for name in evaluation}


def exclude_identities(data: IdentitySet, evaluation: PairSet | Iterable[str]) -> IdentitySet:
    """Remove every image of a person who appears in ``evaluation``.

    Use it to build identity-disjoint training data: e.g. LFW people minus
    everyone in ``pairsDevTest.txt`` before training a model scored on it.

    Parameters
    ----------
    data : IdentitySet
        Identity-labelled images (e.g. from :func:`~siamese_lessons.data.load_lfw_people`).
    evaluation : PairSet or iterable of str
        Evaluation pairs, or the names of the people to remove.

    Returns
    -------
    IdentitySet
        The remaining images (class names unchanged, so labels stay comparable).
    """
    banned = _people(evaluation)
    keep = ~np.isin(data.identities, sorted(banned))
    return data.subset(keep, name=f"{data.name} without {len(banned)} evaluation identities")


def check_no_identity_leakage(
    training: IdentitySet | PairSet | Iterable[str],
    evaluation: PairSet | Iterable[str],
    *,
    context: str = "",
) -> None:
    """Raise :class:`~siamese_lessons.errors.IdentityLeakageError` if the sets share a person.

    Parameters
    ----------
    training : IdentitySet, PairSet or iterable of str
        The training data, or the names of its identities.
    evaluation : PairSet or iterable of str
        The evaluation pairs, or the names of their identities.
    context : str
        Added to the message, e.g. ``"training for fold 3"``.
    """
    if isinstance(training, IdentitySet):
        train_people = set(np.unique(training.identities).tolist())
    else:
        train_people = _people(training)
    shared = train_people & _people(evaluation)
    if shared:
        raise IdentityLeakageError(sorted(shared), context)
