"""Pairs and identities: identity-disjoint training data and the leakage check."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .data.containers import DIFFERENT, SAME, IdentitySet, PairSet
from .errors import IdentityLeakageError

__all__ = [
    "check_no_identity_leakage",
    "exclude_identities",
    "join_pairs",
    "pk_batches",
    "sample_pairs",
    "split_identities",
]


def _people(evaluation: PairSet | Iterable[str]) -> set[str]:
    if isinstance(evaluation, PairSet):
        return set(evaluation.people)
    if isinstance(evaluation, str):
        raise TypeError("pass a PairSet or a collection of identity names, not one string")
    return {str(name) for name in evaluation}


def group_by_label(labels) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Group items by label: ``order`` (item indices sorted by label, stable) and, per
    distinct label, ``classes``, ``starts`` (its first position in ``order``) and ``counts``."""
    labels = np.asarray(labels).ravel()
    order = np.argsort(labels, kind="stable")
    classes, starts, counts = np.unique(labels[order], return_index=True, return_counts=True)
    return order, classes, starts, counts


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


def split_identities(data: IdentitySet, n_held_out: int, *, seed: int = 0,
                     min_images: int = 2) -> tuple[IdentitySet, IdentitySet]:
    """Hold out ``n_held_out`` whole identities: validation people the model never trains on.

    The held-out identities are drawn (seeded) among those with at least
    ``min_images`` images, so that same-person validation pairs exist; every image
    of a held-out identity leaves the training part.

    Returns
    -------
    training, held_out : IdentitySet

    Raises
    ------
    ValueError
        If fewer than ``n_held_out`` identities have ``min_images`` images, or
        ``n_held_out`` is not positive.
    """
    if n_held_out < 1:
        raise ValueError(f"n_held_out must be positive, got {n_held_out}")
    labels, counts = np.unique(np.asarray(data.labels), return_counts=True)
    eligible = labels[counts >= min_images]
    if len(eligible) < n_held_out:
        raise ValueError(f"only {len(eligible)} identities of {data.name!r} have {min_images} or more "
                         f"images; cannot hold out {n_held_out}")
    held = np.random.default_rng(seed).choice(eligible, n_held_out, replace=False)
    mask = np.isin(data.labels, held)
    return (data.subset(~mask, name=f"{data.name}, training identities"),
            data.subset(mask, name=f"{data.name}, {n_held_out} held-out identities"))


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


def sample_pairs(
    data: IdentitySet,
    n_pairs: int,
    *,
    seed: int = 0,
    same_fraction: float = 0.5,
    negatives_within: str | None = None,
    name: str | None = None,
) -> PairSet:
    """Draw distinct same/different pairs from identity-labelled images.

    Same pairs: an identity with two or more images is chosen uniformly, then two
    different images of it, so positives spread over all identities instead of
    coming from the few with most images. Different pairs: two different
    identities chosen uniformly, one image of each (with ``negatives_within``, two
    different identities of the same group, e.g. two characters of one alphabet).
    No pair is drawn twice (in either order) and no image is paired with itself.

    Parameters
    ----------
    data : IdentitySet
    n_pairs : int
        Total pairs.
    seed : int
    same_fraction : float, default=0.5
        Fraction of same pairs (rounded).
    negatives_within : str or None
        Key of ``data.groups`` (e.g. ``"alphabet"``): draw each different pair from
        two identities of the same group, the way Omniglot's one-shot trials are
        made. Every identity must belong to one group; groups with a single
        identity give no negatives. ``None``: any two identities.
    name : str or None
        Name of the returned set.

    Returns
    -------
    PairSet
        Sharing ``data.images`` (no copy); pairs in random order.

    Raises
    ------
    ValueError
        If no identity has two images (same pairs requested), fewer than two
        identities exist (different pairs requested), ``negatives_within`` names
        no group, splits an identity over groups or leaves no group with two
        identities, or there are not enough distinct pairs.
    """
    if n_pairs < 1:
        raise ValueError(f"n_pairs must be positive, got {n_pairs}")
    if not 0 <= same_fraction <= 1:
        raise ValueError(f"same_fraction must be in [0, 1], got {same_fraction}")
    rng = np.random.default_rng(seed)
    labels = np.asarray(data.labels)
    order, classes, starts, counts = group_by_label(labels)
    n_same = int(round(n_pairs * same_fraction))
    n_diff = n_pairs - n_same
    multi = np.flatnonzero(counts >= 2)
    if n_same and not len(multi):
        raise ValueError("no identity has two or more images, so no same-identity pair can be drawn")
    if n_diff and len(classes) < 2:
        raise ValueError("different-identity pairs need at least two identities")
    # Negatives: a first class from ``sources``, a partner from the other classes (of its group).
    if negatives_within is None:
        sources, mates = np.arange(len(classes)), None
    else:
        sources, mates, mate_start, mate_count, rank = _group_mates(data, negatives_within, order, starts,
                                                                    counts)

    def draw_partner(c1):
        if mates is None:
            return (c1 + rng.integers(1, len(classes), len(c1))) % len(classes)
        # c1's group is mates[mate_start[c1]:][:mate_count[c1]], with c1 itself at position rank[c1].
        offset = (rank[c1] + rng.integers(1, mate_count[c1])) % mate_count[c1]
        return mates[mate_start[c1] + offset]

    def unique_keys(a, b, wanted, draw):
        keys = np.empty(0, np.int64)
        n = len(labels)
        for _ in range(50):
            lo, hi = np.minimum(a, b), np.maximum(a, b)
            keys = np.unique(np.concatenate([keys, lo.astype(np.int64) * n + hi]))
            if len(keys) >= wanted:
                return rng.permutation(keys)[:wanted]
            a, b = draw(2 * (wanted - len(keys)) + 16)
        raise ValueError(f"could not draw {wanted} distinct pairs; the data has too few images")

    def draw_same(k):
        c = rng.choice(multi, k)
        i = rng.integers(0, counts[c])
        j = (i + rng.integers(1, counts[c])) % counts[c]  # a different image of the same identity
        return order[starts[c] + i], order[starts[c] + j]

    def draw_diff(k):
        c1 = sources[rng.integers(0, len(sources), k)]
        c2 = draw_partner(c1)
        return (order[starts[c1] + rng.integers(0, counts[c1])],
                order[starts[c2] + rng.integers(0, counts[c2])])

    n = len(labels)
    parts, part_labels = [], []
    for wanted, draw, label in ((n_same, draw_same, SAME), (n_diff, draw_diff, DIFFERENT)):
        if wanted:
            keys = unique_keys(*draw(wanted + 16), wanted, draw)
            parts.append(np.stack([keys // n, keys % n], axis=1))
            part_labels.append(np.full(wanted, label, np.int8))
    pairs = np.concatenate(parts)
    pair_labels = np.concatenate(part_labels)
    shuffle = rng.permutation(len(pairs))
    paths = data.paths if data.paths is not None else np.asarray([str(i) for i in range(n)])
    return PairSet(images=data.images, pairs=pairs[shuffle], labels=pair_labels[shuffle],
                   identities=data.identities, paths=paths,
                   name=name or f"{n_pairs} pairs sampled from {data.name}")


def _group_mates(data: IdentitySet, key: str, order, starts, counts):
    """Classes arranged by group for within-group negatives (see :func:`sample_pairs`).

    Returns ``sources`` (classes whose group has another class), ``mates`` (class
    indices sorted by group) and, per class, the start and size of its group in
    ``mates`` and its own position inside the group.
    """
    if key not in data.groups:
        raise ValueError(f"negatives_within={key!r} is not a group of {data.name!r}; it has "
                         f"{sorted(data.groups) or 'no groups'}")
    values = np.asarray(data.groups[key])[order]
    first = values[starts]
    split = np.flatnonzero(values != np.repeat(first, counts))
    if len(split):
        bad = str(data.class_names[np.asarray(data.labels)[order[split[0]]]])
        raise ValueError(f"identity {bad!r} has images in more than one {key!r} group")
    codes = np.unique(first, return_inverse=True)[1].ravel()
    mates = np.argsort(codes, kind="stable")
    _, group_start, group_size = np.unique(codes[mates], return_index=True, return_counts=True)
    mate_start = group_start[codes]
    mate_count = group_size[codes]
    rank = np.empty(len(codes), np.int64)
    rank[mates] = np.arange(len(mates)) - mate_start[mates]
    sources = np.flatnonzero(mate_count >= 2)
    if not len(sources):
        raise ValueError(f"no {key!r} group has two identities, so no within-group negative can be drawn")
    return sources, mates, mate_start, mate_count, rank


def pk_batches(
    data: IdentitySet,
    p: int,
    k: int,
    n_batches: int,
    *,
    seed: int = 0,
) -> np.ndarray:
    """Indices of P x K batches: ``p`` identities, ``k`` images of each, per batch.

    The batches that online triplet mining needs: every anchor has ``k - 1``
    positives and ``(p - 1) * k`` negatives in its batch. Identities with at
    least two images are drawn uniformly without replacement within a batch;
    their images without replacement when they have ``k`` or more, otherwise
    with replacement (so an image may appear twice; its positives are still the
    other images of the identity).

    Parameters
    ----------
    data : IdentitySet
    p, k : int
        Identities per batch (at least 2) and images per identity (at least 2).
    n_batches : int
    seed : int

    Returns
    -------
    numpy.ndarray
        ``(n_batches, p * k)`` indices into ``data.images``; each row is grouped by identity.

    Raises
    ------
    ValueError
        If fewer than ``p`` identities have two or more images.
    """
    if p < 2 or k < 2 or n_batches < 1:
        raise ValueError(f"need p >= 2, k >= 2 and n_batches >= 1, got p={p}, k={k}, n_batches={n_batches}")
    labels = np.asarray(data.labels)
    order, classes, starts, counts = group_by_label(labels)
    eligible = np.flatnonzero(counts >= 2)
    if len(eligible) < p:
        raise ValueError(f"only {len(eligible)} identities have two or more images; "
                         f"a P x K batch needs p={p}")
    rng = np.random.default_rng(seed)
    out = np.empty((n_batches, p * k), dtype=np.int64)
    for b in range(n_batches):
        chosen = rng.choice(eligible, p, replace=False)
        for j, c in enumerate(chosen):
            pick = rng.choice(counts[c], k, replace=bool(counts[c] < k))
            out[b, j * k:(j + 1) * k] = order[starts[c] + pick]
    return out


def join_pairs(first: PairSet, second: PairSet) -> tuple[PairSet, np.ndarray, np.ndarray]:
    """One pair set holding ``first``'s pairs then ``second``'s (images re-indexed), and the
    index of each part."""
    offset = len(first.images)
    joined = PairSet(images=np.concatenate([first.images, second.images]),
                     pairs=np.concatenate([first.pairs, second.pairs + offset]),
                     labels=np.concatenate([first.labels, second.labels]),
                     identities=np.concatenate([first.identities, second.identities]),
                     paths=np.concatenate([first.paths, second.paths]), name=first.name)
    return joined, np.arange(len(first)), np.arange(len(first), len(first) + len(second))
