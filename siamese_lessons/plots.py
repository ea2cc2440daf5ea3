"""Figures used by the chapters. Every function returns a matplotlib ``Figure``
with a title (and labelled axes where there are axes to label)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .data.containers import SAME, OneShotTrials, PairSet

__all__ = [
    "plot_distance_histograms",
    "plot_embedding_map",
    "plot_label_balance",
    "plot_learning_curves",
    "plot_roc",
    "plot_sweep",
    "show_mistakes",
    "plot_pixel_histogram",
    "show_images",
    "show_one_shot_trial",
    "show_pairs",
]


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _imshow(ax, image: np.ndarray) -> None:
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255)
    ax.set_xticks([])
    ax.set_yticks([])


def show_images(
    images: np.ndarray | Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    *,
    title: str,
    ncols: int = 8,
    size: float = 1.6,
):
    """Show ``uint8`` images in a grid.

    Parameters
    ----------
    images : array of shape (n, H, W[, C]) or sequence of arrays
    titles : sequence of str or None
        One caption per image.
    title : str
        Figure title (required: every figure of the course has one).
    ncols : int, default=8
        Images per row.
    size : float
        Inches per image.
    """
    images = list(images)
    if not images:
        raise ValueError("show_images needs at least one image")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(titles)} titles for {len(images)} images")
    ncols = max(1, min(ncols, len(images)))
    nrows = -(-len(images) // ncols)
    fig, axes = _plt().subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.6),
                                squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        if k < len(images):
            _imshow(ax, np.asarray(images[k]))
            if titles is not None:
                ax.set_title(titles[k], fontsize=7)
        else:
            ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_pairs(
    pairs: PairSet,
    index: Sequence[int] | np.ndarray,
    *,
    scores: Sequence[float] | None = None,
    title: str,
    ncols: int = 4,
    size: float = 1.6,
):
    """Show pairs side by side, captioned with their names, label and score.

    Parameters
    ----------
    pairs : PairSet
    index : sequence of int
        Which pairs to show.
    scores : sequence of float or None
        A model's similarity score per shown pair, added to the caption.
    title : str
        Figure title.
    ncols : int, default=4
        Pairs per row.
    """
    index = np.asarray(index, dtype=np.int64)
    if scores is not None and len(scores) != len(index):
        raise ValueError(f"got {len(scores)} scores for {len(index)} pairs")
    ncols = max(1, min(ncols, len(index)))
    nrows = -(-len(index) // ncols)
    fig, axes = _plt().subplots(nrows, 2 * ncols, figsize=(2 * size * ncols, (size + 0.5) * nrows + 0.6),
                                squeeze=False)
    for k in range(nrows * ncols):
        left, right = axes[k // ncols, 2 * (k % ncols)], axes[k // ncols, 2 * (k % ncols) + 1]
        if k >= len(index):
            left.axis("off")
            right.axis("off")
            continue
        i = int(index[k])
        a, b = pairs.pairs[i]
        _imshow(left, pairs.images[a])
        _imshow(right, pairs.images[b])
        same = pairs.labels[i] == SAME
        name_a, name_b = pairs.identities[a], pairs.identities[b]
        caption = f"same: {name_a}" if same else f"different:\n{name_a} / {name_b}"
        if scores is not None:
            caption += f"\nscore {scores[k]:.2f}"
        left.set_title(caption.replace("_", " "), fontsize=7, loc="left",
                       color="tab:green" if same else "tab:red")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_one_shot_trial(
    trials: OneShotTrials,
    trial: int,
    *,
    scores: Sequence[float] | None = None,
    title: str,
    size: float = 1.3,
):
    """Show one N-way trial: the query, then the candidates with the answer framed.

    Parameters
    ----------
    trials : OneShotTrials
    trial : int
        Which trial.
    scores : sequence of float or None
        A model's score per candidate; the best-scoring one is marked.
    title : str
        Figure title.
    """
    if not 0 <= trial < len(trials):
        raise IndexError(f"trial {trial} out of range for {len(trials)} trials")
    n_way = trials.n_way
    ncols = min(10, n_way)
    nrows = -(-n_way // ncols)
    fig = _plt().figure(figsize=(size * (ncols + 2), size * nrows + 0.8))
    grid = fig.add_gridspec(nrows, ncols + 2)
    ax_q = fig.add_subplot(grid[:, :2])
    _imshow(ax_q, trials.images[trials.queries[trial]])
    ax_q.set_title("query", fontsize=9)
    best = None if scores is None else int(np.argmax(scores))
    for k in range(n_way):
        ax = fig.add_subplot(grid[k // ncols, 2 + k % ncols])
        _imshow(ax, trials.images[trials.candidates[trial, k]])
        label = f"{k + 1}"
        if scores is not None:
            label += f": {scores[k]:.2f}" + (" <" if k == best else "")
        ax.set_title(label, fontsize=7)
        if k == trials.answers[trial]:
            for spine in ax.spines.values():
                spine.set_edgecolor("tab:green")
                spine.set_linewidth(3)
    fig.suptitle(title)
    return fig


def plot_label_balance(sets: Mapping[str, PairSet], *, title: str):
    """Bar chart of same/different pair counts for each named pair set."""
    plt = _plt()
    names = list(sets)
    same = [int((sets[n].labels == SAME).sum()) for n in names]
    diff = [len(sets[n]) - s for n, s in zip(names, same, strict=True)]
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(1.8 * len(names) + 2, 3.2))
    bars_s = ax.bar(x - 0.2, same, 0.4, label="same person (label 1)", color="tab:green")
    bars_d = ax.bar(x + 0.2, diff, 0.4, label="different people (label 0)", color="tab:red")
    ax.bar_label(bars_s, fontsize=8)
    ax.bar_label(bars_d, fontsize=8)
    ax.set_xticks(x, names)
    ax.set_xlabel("pair set")
    ax.set_ylabel("number of pairs")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_pixel_histogram(images: Mapping[str, np.ndarray], *, title: str, bins: int = 64):
    """Normalised histograms of the pixel values of one or more ``uint8`` image tables."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for name, table in images.items():
        counts, edges = np.histogram(np.asarray(table).ravel(), bins=bins, range=(0, 256))
        ax.stairs(counts / counts.sum(), edges, label=name)
    ax.set_xlabel("pixel value (0 = black, 255 = white)")
    ax.set_ylabel("fraction of pixels")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_learning_curves(history, *, title: str, best_epoch: int | None = None,
                         metrics: Sequence[str] = ("loss", "accuracy")):
    """Training and validation curves from a history table (one row per epoch).

    Every column named ``<split>_<metric>`` (and the bare ``<metric>`` for
    training) is drawn; ``best_epoch`` is marked with a dotted line.
    """
    plt = _plt()
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.4), squeeze=False)
    epochs = np.asarray(history["epoch"])
    for ax, metric in zip(axes[0], metrics, strict=True):
        for column in history.columns:
            if column == metric or column.endswith("_" + metric):
                split = "train" if column == metric else column[: -len(metric) - 1]
                style = "--" if split not in ("train", "val") else "-"
                ax.plot(epochs, history[column], style, marker="o", ms=3, label=split)
        if best_epoch is not None:
            ax.axvline(best_epoch, color="grey", ls=":", label=f"kept (epoch {best_epoch})")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_roc(curves: Mapping[str, tuple], *, title: str):
    """ROC curves: ``{name: (fpr, tpr, auc)}``, with the chance diagonal."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    for name, (fpr, tpr, auc) in curves.items():
        ax.plot(fpr, tpr, label=f"{name} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", ls=":", label="chance")
    ax.set_xlabel("false accept rate (different pairs called same)")
    ax.set_ylabel("true accept rate (same pairs called same)")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def plot_sweep(summary, *, metric: str, title: str):
    """One panel per hyperparameter: mean +- std of ``metric`` per value, base as a band.

    ``summary`` is the table of :func:`~siamese_lessons.sweeps.summarize_sweep`.
    """
    plt = _plt()
    params = [p for p in dict.fromkeys(summary["param"]) if p != "base"]
    base = summary[summary["param"] == "base"]
    fig, axes = plt.subplots(1, max(1, len(params)), figsize=(2.6 * max(1, len(params)), 3.2),
                             squeeze=False, sharey=True)
    for ax, param in zip(axes[0], params, strict=False):
        rows = summary[summary["param"] == param]
        x = np.arange(len(rows))
        ax.errorbar(x, rows["mean"], yerr=rows["std"].fillna(0), fmt="o", capsize=3)
        if len(base):
            m, sd = float(base["mean"].iloc[0]), float(np.nan_to_num(base["std"].iloc[0]))
            ax.axhspan(m - sd, m + sd, color="tab:orange", alpha=0.2)
            ax.axhline(m, color="tab:orange", lw=1, label="base")
        ax.set_xticks(x, rows["value"], rotation=45, fontsize=7)
        ax.set_xlabel(param)
        ax.set_title(param, fontsize=9)
    axes[0][0].set_ylabel(metric)
    if len(base):
        axes[0][0].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_mistakes(pairs: PairSet, scores, threshold: float, *, k: int = 8, title: str, index=None):
    """The ``k`` most confident mistakes: wrong pairs farthest from the threshold.

    Parameters
    ----------
    pairs : PairSet
    scores : array
        One score per pair in ``index`` (default: all pairs).
    threshold : float
        ``score >= threshold`` means same.
    """
    index = np.arange(len(pairs)) if index is None else np.asarray(index)
    scores = np.asarray(scores, dtype=float)
    if scores.shape != index.shape:
        raise ValueError(f"got {len(scores)} scores for {len(index)} pairs")
    wrong = np.flatnonzero((scores >= threshold) != (pairs.labels[index] == SAME))
    if not len(wrong):
        raise ValueError("no mistakes at this threshold")
    worst = wrong[np.argsort(-np.abs(scores[wrong] - threshold))][:k]
    return show_pairs(pairs, index[worst], scores=scores[worst], title=title)


def plot_distance_histograms(distances: Mapping[str, tuple], *, title: str, bins: int = 40):
    """Same- and different-identity distance histograms, one panel per entry.

    ``distances`` maps a panel title to ``(distances, labels)`` (1 = same).
    """
    plt = _plt()
    fig, axes = plt.subplots(1, len(distances), figsize=(4.2 * len(distances), 3.2), squeeze=False)
    for ax, (name, (d, y)) in zip(axes[0], distances.items(), strict=True):
        d, y = np.asarray(d, float), np.asarray(y)
        edges = np.linspace(d.min(), d.max() + 1e-9, bins + 1)
        ax.hist(d[y == SAME], edges, alpha=0.6, color="tab:green", label="same person")
        ax.hist(d[y != SAME], edges, alpha=0.6, color="tab:red", label="different people")
        ax.set_xlabel("distance between embeddings")
        ax.set_ylabel("pairs")
        ax.set_title(name, fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_embedding_map(points, labels, names: Sequence[str], *, title: str, xlabel: str, ylabel: str):
    """A 2-D map of embeddings (from PCA or t-SNE), one colour per identity."""
    plt = _plt()
    points, labels = np.asarray(points), np.asarray(labels)
    fig, ax = plt.subplots(figsize=(5.6, 4.6))
    for k, name in enumerate(names):
        sel = labels == k
        ax.scatter(points[sel, 0], points[sel, 1], s=14, label=str(name).replace("_", " "))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=6, loc="best", ncol=2)
    fig.tight_layout()
    return fig
