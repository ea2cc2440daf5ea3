"""siamese_lessons.baselines: LBP histograms and chi-square, eigenfaces."""

import numpy as np
import pytest

from siamese_lessons.baselines import EigenfaceVerifier, lbp_histograms, lbp_pair_scores
from siamese_lessons.data import IdentitySet, PairSet


def _faces(n_people=6, per=4, side=16, seed=0):
    """Each identity is a fixed random pattern plus small noise."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (n_people, side, side))
    labels = np.repeat(np.arange(n_people), per)
    images = np.clip(base[labels] + rng.normal(0, 8, (len(labels), side, side)), 0, 255).astype(np.uint8)
    return IdentitySet(images=images, labels=labels, class_names=[f"p{i}" for i in range(n_people)])


def _fold_pairs(people, n_folds=4):
    pairs, labels, folds = [], [], []
    for f in range(n_folds):
        ia = np.flatnonzero(people.labels == 2 * f)
        ib = np.flatnonzero(people.labels == 2 * f + 1)
        pairs += [[ia[0], ia[1]], [ia[2], ib[0]], [ib[1], ib[2]], [ia[0], ib[1]]]
        labels += [1, 0, 1, 0]
        folds += [f] * 4
    return PairSet(images=people.images, pairs=pairs, labels=labels, identities=people.identities,
                   paths=[str(i) for i in range(len(people))], folds=folds)


def test_lbp_histograms_are_normalised_and_match_a_direct_computation():
    from skimage.feature import local_binary_pattern

    img = np.random.default_rng(0).integers(0, 256, (1, 14, 14)).astype(np.uint8)
    h = lbp_histograms(img, grid=(2, 2))
    assert h.shape == (1, 4 * 10)
    np.testing.assert_allclose(h.reshape(4, 10).sum(axis=1), 1.0, rtol=1e-6)
    codes = local_binary_pattern(img[0], 8, 1.0, method="uniform")[:7, :7].astype(int)
    np.testing.assert_allclose(h[0, :10], np.bincount(codes.ravel(), minlength=10) / 49, rtol=1e-6)
    with pytest.raises(ValueError):
        lbp_histograms(img.astype(np.float32))


def test_lbp_histograms_match_a_cell_by_cell_loop_on_an_uneven_grid():
    from skimage.feature import local_binary_pattern

    images = np.random.default_rng(1).integers(0, 256, (3, 15, 13)).astype(np.uint8)
    h = lbp_histograms(images, grid=(3, 4)).reshape(3, 3, 4, 10)  # 15 rows: 5+5+5; 13 columns: 4+3+3+3
    for i, img in enumerate(images):
        codes = local_binary_pattern(img, 8, 1.0, method="uniform").astype(int)
        for a, rows in enumerate(np.array_split(np.arange(15), 3)):
            for b, cols in enumerate(np.array_split(np.arange(13), 4)):
                cell = codes[np.ix_(rows, cols)].ravel()
                np.testing.assert_allclose(h[i, a, b], np.bincount(cell, minlength=10) / cell.size, rtol=1e-6)
    # More cells than pixels: the empty cells' histograms are zeros, the others still sum to 1.
    tiny = lbp_histograms(images[:, :3, :2], grid=(4, 1)).reshape(3, 4, 10)
    np.testing.assert_array_equal(tiny.sum(axis=2), np.tile([1.0, 1.0, 1.0, 0.0], (3, 1)))


def test_lbp_chi_square_hand_value(monkeypatch):
    import siamese_lessons.baselines as baselines

    hists = np.array([[0.5, 0.5, 0.0], [0.25, 0.75, 0.0]])
    monkeypatch.setattr(baselines, "lbp_histograms", lambda images, **kw: hists[: len(images)])
    pairs = PairSet(images=np.zeros((2, 4, 4), np.uint8), pairs=[[0, 1]], labels=[0], identities=["a", "b"],
                    paths=["a", "b"])
    # (0.25^2 / 0.75) + (0.25^2 / 1.25) + 0 (empty bin) = 0.08333 + 0.05
    assert lbp_pair_scores(pairs)[0] == pytest.approx(-(0.0625 / 0.75 + 0.0625 / 1.25))


def test_eigenfaces_rank_same_identity_pairs_higher():
    data = _faces()
    verifier = EigenfaceVerifier(n_components=5).fit(data)
    pairs = PairSet(images=data.images, pairs=[[0, 1], [4, 5], [0, 4], [8, 12]], labels=[1, 1, 0, 0],
                    identities=data.identities, paths=[str(i) for i in range(len(data))])
    s = verifier.score_pairs(pairs)
    assert min(s[:2]) > max(s[2:])
    with pytest.raises(RuntimeError):
        EigenfaceVerifier(3).transform(data.images)
