"""Classical face-verification baselines: eigenfaces and LBP histograms.

Both give similarity scores for pairs (higher = more alike), so they go through
the same thresholds and protocols as the networks.
"""

from __future__ import annotations

import numpy as np

from .data.containers import IdentitySet, PairSet

__all__ = ["EigenfaceVerifier", "lbp_histograms", "lbp_pair_scores"]


class EigenfaceVerifier:
    """PCA on training faces (Turk and Pentland's eigenfaces); score = minus the
    Euclidean distance between whitened projections.

    Parameters
    ----------
    n_components : int
        Principal components kept.
    whiten : bool
        Scale each component to unit variance (distances then weigh every
        component alike).
    """

    def __init__(self, n_components: int = 100, *, whiten: bool = True):
        if n_components < 1:
            raise ValueError(f"n_components must be positive, got {n_components}")
        self.n_components = n_components
        self.whiten = whiten
        self.pca_ = None

    def fit(self, train: IdentitySet) -> EigenfaceVerifier:
        """Fit the PCA on the training images (identity labels are not used)."""
        from sklearn.decomposition import PCA

        x = train.images.reshape(len(train), -1).astype(np.float32) / 255.0
        if self.n_components > min(x.shape):
            raise ValueError(f"n_components={self.n_components} exceeds the {min(x.shape)} available")
        self.pca_ = PCA(self.n_components, whiten=self.whiten, svd_solver="randomized", random_state=0).fit(x)
        return self

    def transform(self, images: np.ndarray) -> np.ndarray:
        """Project ``uint8`` images into the eigenface space."""
        if self.pca_ is None:
            raise RuntimeError("call fit() first")
        return self.pca_.transform(images.reshape(len(images), -1).astype(np.float32) / 255.0)

    def score_pairs(self, pairs: PairSet, index=None) -> np.ndarray:
        """Minus the distance between the projections of each pair's images."""
        used, inverse = pairs.distinct_images(index)
        z = self.transform(pairs.images[used])
        return -np.linalg.norm(z[inverse[:, 0]] - z[inverse[:, 1]], axis=1)


def lbp_histograms(images: np.ndarray, *, grid: tuple[int, int] = (7, 7), points: int = 8,
                   radius: float = 1.0) -> np.ndarray:
    """Concatenated, normalised histograms of uniform local binary patterns per grid cell.

    The descriptor of Ahonen et al. (2006): an image is cut into ``grid`` cells,
    each described by the histogram of its ``points + 2`` uniform LBP codes.

    Parameters
    ----------
    images : numpy.ndarray
        ``(n, H, W)`` ``uint8`` grey images.

    Returns
    -------
    numpy.ndarray
        ``(n, grid_rows * grid_cols * (points + 2))``, each cell's histogram summing to 1.
    """
    from skimage.feature import local_binary_pattern

    images = np.asarray(images)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"images must be (n, H, W) uint8 grey images, got {images.shape} {images.dtype}")
    n_bins = points + 2
    n_cells = grid[0] * grid[1]
    # Each pixel's cell (row-major over the grid, cells as np.array_split cuts the sides), so that
    # one bincount of cell * n_bins + code gives every cell's histogram of an image at once.
    row_cell, col_cell = (np.repeat(np.arange(k), [len(part) for part in np.array_split(np.arange(side), k)])
                          for side, k in zip(images.shape[1:], grid, strict=True))
    offset = ((row_cell[:, None] * grid[1] + col_cell[None, :]) * n_bins).ravel()
    counts = np.empty((len(images), n_cells, n_bins), np.int64)
    for i, img in enumerate(images):
        codes = local_binary_pattern(img, points, radius, method="uniform").astype(int).ravel()
        counts[i] = np.bincount(offset + codes, minlength=n_cells * n_bins).reshape(n_cells, n_bins)
    totals = np.maximum(counts.sum(axis=2, keepdims=True), 1)
    return (counts / totals).astype(np.float32).reshape(len(images), n_cells * n_bins)


def lbp_pair_scores(pairs: PairSet, index=None, **kwargs) -> np.ndarray:
    """Minus the chi-square distance ``sum (a - b)^2 / (a + b)`` between LBP histograms."""
    used, inverse = pairs.distinct_images(index)
    h = lbp_histograms(pairs.images[used], **kwargs).astype(np.float64)
    a, b = h[inverse[:, 0]], h[inverse[:, 1]]
    denom = a + b
    chi2 = np.where(denom > 0, (a - b) ** 2 / np.where(denom > 0, denom, 1), 0).sum(axis=1)
    return -chi2
