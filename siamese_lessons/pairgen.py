"""Positive and negative pair files from a clean list, spread over every identity.

The MS-Celeb seed turned a clean list (``<identity>/<image>.jpg <label>`` per
line) into ``positive_pairs_path.txt`` and ``negative_pairs_path.txt`` by taking
every image pair of one identity after another, so its 1.5 million positives
came from under 1 % of the identities. :func:`write_pair_files` writes the same
two files (one ``<path a> <path b>`` line per pair) with the pairs spread over
all identities:

* **positives**: each identity with two or more images gets a quota, as equal as
  its number of distinct pairs allows (water-filling), and that many distinct
  pairs of its images;
* **negatives**: each identity starts the same number of pairs, with a partner
  identity drawn uniformly from the half of the identity circle "after" it
  (so every unordered identity pair has exactly one identity that may draw it;
  with an even number of identities the first half also reaches the identity
  opposite it), and one random image of each.

No pair appears twice, no image is paired with itself, and identities are
processed in blocks that are written to disk as they are done, so memory is set
by the block size, not by the number of pairs. Everything is seeded.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from .data.containers import ImageList
from .pairs import group_by_label

__all__ = ["PAIR_FILE_NAMES", "PairFiles", "pair_quotas", "positive_pairs", "negative_pairs",
           "write_pair_files"]


#: The seed's two pair file names (positives, negatives).
PAIR_FILE_NAMES = ("positive_pairs_path.txt", "negative_pairs_path.txt")


def pair_quotas(capacity, total: int, *, seed: int = 0) -> np.ndarray:
    """Split ``total`` items over groups as evenly as their ``capacity`` allows.

    Water-filling: every group gets ``min(capacity, level)`` for the largest
    integer level that does not exceed ``total``; the remaining items go, one
    each, to randomly chosen groups that still have room.

    Parameters
    ----------
    capacity : array-like of int
        Most items each group can give (e.g. its number of distinct pairs).
    total : int
    seed : int

    Returns
    -------
    numpy.ndarray
        ``int64`` quota per group, summing to ``total``.

    Raises
    ------
    ValueError
        If the groups cannot give ``total`` items.
    """
    cap = np.asarray(capacity, dtype=np.int64)
    if cap.ndim != 1 or (cap < 0).any():
        raise ValueError("capacity must be a 1-D array of non-negative integers")
    if total < 0:
        raise ValueError(f"total must be non-negative, got {total}")
    if total > cap.sum():
        raise ValueError(f"the groups hold at most {int(cap.sum()):,} distinct items, "
                         f"{total:,} were asked for")
    if total == 0:
        return np.zeros_like(cap)
    # Largest level L with sum(min(cap, L)) <= total, by bisection on L.
    lo, hi = 0, int(cap.max())
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if np.minimum(cap, mid).sum() <= total:
            lo = mid
        else:
            hi = mid - 1
    quota = np.minimum(cap, lo)
    left = total - int(quota.sum())
    if left:
        room = np.flatnonzero(cap > quota)
        quota[np.random.default_rng(seed).choice(room, left, replace=False)] += 1
    return quota


def _groups(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Image order sorted by label, and each label's start and size in that order."""
    order, _, start, size = group_by_label(labels)
    return order, start.astype(np.int64), size.astype(np.int64)


def _distinct(keys: np.ndarray, owner: np.ndarray, quota: np.ndarray,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Drop repeated keys, then keep a random ``quota[owner]`` of the keys of each owner."""
    keys, first = np.unique(keys, return_index=True)
    owner = owner[first]
    order = np.lexsort((rng.random(keys.size), owner))
    keys, owner = keys[order], owner[order]
    rank = np.arange(keys.size) - np.searchsorted(owner, owner)
    keep = rank < quota[owner]
    return keys[keep], owner[keep]


def _draw_until_full(draw, quota: np.ndarray, rng: np.random.Generator, rounds: int = 50) -> np.ndarray:
    """Call ``draw(counts) -> (keys, owner)`` until each owner has ``quota`` distinct keys."""
    have_keys = np.empty(0, np.int64)
    have_owner = np.empty(0, np.int64)
    for _ in range(rounds):
        got = np.bincount(have_owner, minlength=len(quota))
        need = quota - got
        if not need.any():
            return have_keys
        keys, owner = draw(np.ceil(need * 1.1).astype(np.int64) + (need > 0))
        have_keys, have_owner = _distinct(np.concatenate([have_keys, keys]),
                                          np.concatenate([have_owner, owner]), quota, rng)
    raise RuntimeError("could not draw enough distinct pairs; the quotas are too close to the capacity")


def positive_pairs(labels, n_pairs: int, *, seed: int = 0, block: int | None = None):
    """Yield blocks of same-identity image pairs, spread over all identities.

    Parameters
    ----------
    labels : array-like of int
        Identity of each image (e.g. ``ImageList.labels``).
    n_pairs : int
        Total pairs over all blocks.
    seed : int
    block : int or None
        Identities per block (default: about a million pairs per block).

    Yields
    ------
    numpy.ndarray
        ``(m, 2)`` image indices ``a < b`` of the same identity; pairs are distinct.
    """
    labels = np.asarray(labels).ravel()
    order, start, size = _groups(labels)
    capacity = size * (size - 1) // 2
    if not (capacity > 0).any() and n_pairs:
        raise ValueError("no identity has two or more images, so no positive pair exists")
    quota = pair_quotas(capacity, n_pairs, seed=seed)
    n = len(labels)
    rng = np.random.default_rng([seed, 1])
    for lo, hi in _blocks(quota, block):
        q, s, z = quota[lo:hi], start[lo:hi], size[lo:hi]
        dense = q * 2 > capacity[lo:hi]
        chunks = [_dense_positives(q, s, z, dense, order, rng)]

        def draw(counts, s=s, z=z):
            owner = np.repeat(np.arange(len(counts)), counts)
            a = rng.integers(0, z[owner])
            b = rng.integers(0, z[owner] - 1)
            b = b + (b >= a)
            x, y = order[s[owner] + a], order[s[owner] + b]
            return np.minimum(x, y) * n + np.maximum(x, y), owner

        sparse_quota = np.where(dense, 0, q)
        if sparse_quota.any():
            keys = _draw_until_full(draw, sparse_quota, rng)
            chunks.append(np.stack([keys // n, keys % n], axis=1))
        yield np.concatenate(chunks)


def _dense_positives(q, start, size, dense, order, rng) -> np.ndarray:
    """Identities whose quota is over half their pairs: a random ``q`` of all their pairs
    (exact, no rejection), vectorised over identities of the same size."""
    out = [np.empty((0, 2), np.int64)]
    for z in np.unique(size[dense]):
        ids = np.flatnonzero(dense & (size == z))
        a, b = np.triu_indices(int(z), 1)
        cols = np.argsort(rng.random((len(ids), len(a))), axis=1)
        take = np.arange(len(a))[None, :] < q[ids][:, None]
        rows = np.broadcast_to(start[ids][:, None], cols.shape)[take]
        chosen = cols[take]
        x, y = order[rows + a[chosen]], order[rows + b[chosen]]
        out.append(np.stack([np.minimum(x, y), np.maximum(x, y)], axis=1))
    return np.concatenate(out)


def _blocks(quota: np.ndarray, block: int | None):
    if block is None:
        per = max(1.0, quota.sum() / max(1, len(quota)))
        block = max(1, int(1_000_000 / per))
    for lo in range(0, len(quota), block):
        yield lo, min(len(quota), lo + block)


def negative_pairs(labels, n_pairs: int, *, seed: int = 0, block: int | None = None):
    """Yield blocks of different-identity image pairs, spread over all identities.

    Identity *i* (in sorted label order, of *m*) starts an equal share of the
    pairs, each with a partner ``(i + d) mod m``, ``d`` uniform in
    ``1 .. (m - 1) // 2`` (for even *m*, ``1 .. m // 2`` when ``i < m // 2``, so the
    opposite identity is reached from one side), and one random image of each; so
    each unordered pair of identities can come from exactly one of its two
    identities, every pair can be drawn, and removing repeats inside a block
    removes them everywhere.

    Parameters
    ----------
    labels : array-like of int
    n_pairs : int
    seed : int
    block : int or None
        Identities per block.

    Yields
    ------
    numpy.ndarray
        ``(m, 2)`` image indices of different identities; pairs are distinct.
    """
    labels = np.asarray(labels).ravel()
    order, start, size = _groups(labels)
    m = len(size)
    if m < 2 and n_pairs:
        raise ValueError(f"negative pairs need at least 2 identities, got {m}")
    reach = np.full(m, (m - 1) // 2)
    if m % 2 == 0:
        reach[: m // 2] += 1  # the opposite identity, reached from the first half only
    # Identity i can start at most size_i * (images of the identities it may pair with) pairs.
    cumulative = np.concatenate([[0], np.cumsum(np.concatenate([size, size]))])
    window = cumulative[np.arange(m) + reach + 1] - cumulative[np.arange(m) + 1]
    quota = pair_quotas(size * window, n_pairs, seed=seed + 1)
    n = len(labels)
    rng = np.random.default_rng([seed, 2])
    for lo, hi in _blocks(quota, block):

        def draw(counts, lo=lo):
            owner = np.repeat(np.arange(len(counts)), counts)
            ident = lo + owner
            partner = (ident + rng.integers(1, reach[ident] + 1)) % m
            x = order[start[ident] + rng.integers(0, size[ident])]
            y = order[start[partner] + rng.integers(0, size[partner])]
            return x * n + y, owner

        keys = _draw_until_full(draw, quota[lo:hi], rng)
        yield np.stack([keys // n, keys % n], axis=1)


@dataclasses.dataclass(frozen=True)
class PairFiles:
    """What :func:`write_pair_files` wrote.

    Attributes
    ----------
    positive_path, negative_path : str
    positives, negatives : int
        Pairs written.
    identities_used : int
        Identities with at least one positive pair.
    """

    positive_path: str
    negative_path: str
    positives: int
    negatives: int
    identities_used: int


def write_pair_files(images: ImageList, out_dir: str | os.PathLike, *, positives: int, negatives: int,
                     seed: int = 0, block: int | None = None,
                     names: tuple[str, str] = PAIR_FILE_NAMES,
                     progress: bool = False) -> PairFiles:
    """Write the seed's two pair files for ``images`` (one ``<path a> <path b>`` per line).

    When any path holds whitespace (identity folders such as ``Ann Smith/1.jpg``),
    the two paths of a line are separated by a tab instead of a space, so that the
    files read back exactly (:func:`~siamese_lessons.streaming.pair_file_dataset`
    splits on the tab when a line has one).

    Parameters
    ----------
    images : ImageList
        From :func:`~siamese_lessons.data.read_clean_list` or
        :func:`~siamese_lessons.data.read_image_folder`.
    out_dir : path-like
        Created if needed.
    positives, negatives : int
        Pairs of each kind.
    seed : int
    block : int or None
        Identities per block (memory bound); default about a million pairs a block.
    names : (str, str)
        File names of the positive and negative files.
    progress : bool
        Show a tqdm bar per file.

    Returns
    -------
    PairFiles

    Both files are written under ``.partial`` names and renamed only when both are
    complete: a request that fails (too many pairs, a full disk) leaves any pair
    files already in ``out_dir`` untouched.
    """
    from tqdm import tqdm

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = images.paths
    separator = "\t" if any(len(p.split()) != 1 for p in paths) else " "
    if any("\t" in p or "\n" in p for p in paths):
        raise ValueError("image paths cannot contain tabs or newlines: pair files could not be read back")
    counts, used = {}, np.zeros(0, np.int64)
    partial = {name: out / f"{name}.partial" for name in names}
    try:
        for kind, gen, total, name in (("positive", positive_pairs, positives, names[0]),
                                       ("negative", negative_pairs, negatives, names[1])):
            written = 0
            with open(partial[name], "w", encoding="utf-8") as fh, \
                    tqdm(total=total, desc=f"{kind} pairs", unit="pair", disable=not progress) as bar:
                for chunk in gen(images.labels, total, seed=seed, block=block):
                    if kind == "positive":
                        used = np.union1d(used, np.unique(images.labels[chunk[:, 0]]))
                    lines = np.char.add(np.char.add(paths[chunk[:, 0]], separator), paths[chunk[:, 1]])
                    fh.write("\n".join(lines.tolist()))
                    fh.write("\n" if len(lines) else "")
                    written += len(chunk)
                    bar.update(len(chunk))
            counts[kind] = written
    except BaseException:
        for tmp in partial.values():
            tmp.unlink(missing_ok=True)
        raise
    for name, tmp in partial.items():
        os.replace(tmp, out / name)
    return PairFiles(positive_path=str(out / names[0]), negative_path=str(out / names[1]),
                     positives=counts["positive"], negatives=counts["negative"], identities_used=len(used))
