"""Scoring pairs and one-shot trials, thresholds, ROC.

Scores are similarities: higher means "more likely the same identity". A pair
is predicted *same* when its score is **greater than or equal to** the threshold.
"""

from __future__ import annotations

import numpy as np

from .data.containers import OneShotTrials, PairSet

__all__ = [
    "accuracy_at",
    "accuracy_standard_error",
    "best_threshold",
    "check_label_direction",
    "compare_verifiers",
    "describe_margins",
    "FarNotObservableWarning",
    "identify",
    "open_set_identification",
    "embed_images",
    "embedding_one_shot_scores",
    "embedding_spread",
    "embedding_pair_scores",
    "nearest_neighbour_one_shot",
    "one_shot_accuracy",
    "one_shot_credit",
    "one_shot_scores",
    "pair_scores",
    "paired_auc_difference",
    "paired_difference",
    "pixel_one_shot_scores",
    "lfw_ten_fold",
    "view2_protocol",
    "margin_table",
    "recall_at_k",
    "roc_auc",
    "subset_accuracies",
    "threshold_at_far",
]


def _check_scores(scores, labels) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64).ravel()
    labels = np.asarray(labels).ravel()
    if scores.shape != labels.shape or scores.size == 0:
        raise ValueError(f"scores and labels must be non-empty and of equal length, got {scores.shape} "
                         f"and {labels.shape}")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("labels must be 1 (same) or 0 (different)")
    if not np.isfinite(scores).all():
        raise ValueError("scores contain NaN or infinity")
    return scores, labels.astype(np.int64)


def _candidates(scores: np.ndarray) -> np.ndarray:
    """Candidate thresholds: midpoints between distinct scores, plus one below the lowest
    and one above the highest."""
    distinct = np.unique(scores)
    return np.concatenate([[distinct[0] - 1.0], (distinct[:-1] + distinct[1:]) / 2, [distinct[-1] + 1.0]])


def accuracy_at(scores, labels, threshold: float) -> float:
    """Fraction of pairs classified right when ``score >= threshold`` means same."""
    scores, labels = _check_scores(scores, labels)
    return float(np.mean((scores >= threshold) == (labels == 1)))


def best_threshold(scores, labels) -> tuple[float, float]:
    """The threshold that maximises accuracy on these (training or validation) scores.

    Candidates are the midpoints between consecutive distinct scores, plus one
    below the lowest and one above the highest score. Ties: the smallest
    threshold among those with the highest accuracy.

    Returns
    -------
    threshold, accuracy : float
    """
    scores, labels = _check_scores(scores, labels)
    candidates = _candidates(scores)
    order = np.argsort(scores, kind="stable")
    s, y = scores[order], labels[order]
    # For each candidate t: same-pairs at or above t are right, different-pairs below t are right.
    below = np.searchsorted(s, candidates, side="left")  # how many scores < t
    neg_below = np.concatenate([[0], np.cumsum(y == 0)])[below]
    pos_above = (y == 1).sum() - np.concatenate([[0], np.cumsum(y == 1)])[below]
    acc = (neg_below + pos_above) / len(s)
    k = int(np.argmax(acc))
    return float(candidates[k]), float(acc[k])


def check_label_direction(scores, labels, *, what: str = "scores") -> float:
    """Raise if same-identity pairs score *lower* than different ones (AUC < 0.5).

    The usual cause is an inverted label convention (0 = same, as in Hadsell et
    al.'s paper) somewhere between the data and the loss, or distances used
    where similarities are expected. Returns the AUC when it is fine.
    """
    auc = roc_auc(scores, labels)[3]
    if auc < 0.5:
        raise ValueError(
            f"{what} rank different-identity pairs above same-identity pairs (AUC {auc:.3f} < 0.5). "
            "Check the label convention (1 = same, 0 = different) and that higher scores mean "
            "'more alike' (use minus a distance, e.g. embedding_pair_scores)")
    return auc


def roc_auc(scores, labels):
    """ROC curve and its area (scikit-learn).

    Returns
    -------
    fpr, tpr, thresholds : numpy.ndarray
    auc : float
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    scores, labels = _check_scores(scores, labels)
    if len(np.unique(labels)) < 2:
        raise ValueError("ROC needs both same (1) and different (0) pairs")
    fpr, tpr, thr = roc_curve(labels, scores)
    return fpr, tpr, thr, float(roc_auc_score(labels, scores))


def accuracy_standard_error(accuracy: float, n: int) -> float:
    """Binomial standard error of an accuracy measured on ``n`` independent pairs."""
    if n < 1:
        raise ValueError("n must be positive")
    return float(np.sqrt(accuracy * (1 - accuracy) / n))


def subset_accuracies(correct, subset_size: int, *, n_draws: int = 2000, seed: int = 0) -> np.ndarray:
    """Accuracies of many random subsets (without replacement) of scored pairs.

    Shows how much an accuracy measured on ``subset_size`` pairs varies, given
    ``correct``, one boolean per pair of a larger test set.
    """
    correct = np.asarray(correct, dtype=bool).ravel()
    if not 0 < subset_size <= len(correct):
        raise ValueError(f"subset_size must be between 1 and {len(correct)}, got {subset_size}")
    rng = np.random.default_rng(seed)
    picks = np.argsort(rng.random((n_draws, len(correct))), axis=1)[:, :subset_size]
    return correct[picks].mean(axis=1)


def embed_images(tower, images: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
    """Run a tower on ``uint8`` images (it rescales them inside); returns float32 vectors."""
    from .data import as_model_input

    images = as_model_input(images)
    expected = tuple(tower.input_shape[1:])
    if images.shape[1:] != expected:
        raise ValueError(f"images have shape {images.shape[1:]}, the tower expects {expected}")
    out = [np.asarray(tower.predict_on_batch(images[i:i + batch_size]))
           for i in range(0, len(images), batch_size)]
    return np.concatenate(out).astype(np.float32, copy=False)


def _tower_and_head(model):
    try:
        return model.get_layer("tower"), model.get_layer("head")
    except ValueError:
        raise ValueError("the model has no 'tower' and 'head' layers; build it with "
                         "siamese_lessons.models.siamese_pair_model") from None


def pair_scores(model, pairs: PairSet, index=None, *, batch_size: int = 256) -> np.ndarray:
    """P(same) for each pair, computing each distinct image's embedding once.

    Parameters
    ----------
    model : keras.Model
        From :func:`~siamese_lessons.models.siamese_pair_model`.
    pairs : PairSet
    index : sequence of int or None
        Pairs to score (default all).

    Returns
    -------
    numpy.ndarray
        ``(n,)`` float scores in [0, 1].
    """
    tower, head = _tower_and_head(model)
    used, inverse = pairs.distinct_images(index)
    emb = embed_images(tower, pairs.images[used], batch_size=batch_size)
    out = head.predict([emb[inverse[:, 0]], emb[inverse[:, 1]]], batch_size=4096, verbose=0)
    return np.asarray(out, dtype=np.float64).ravel()


def embedding_pair_scores(embedder, pairs: PairSet, index=None, *, batch_size: int = 256) -> np.ndarray:
    """Similarity of each pair under an embedding model: minus the Euclidean distance.

    Each distinct image is embedded once. Higher means more likely the same identity,
    so the thresholds and protocols of this module apply unchanged.
    """
    used, inverse = pairs.distinct_images(index)
    emb = embed_images(embedder, pairs.images[used], batch_size=batch_size).astype(np.float64)
    return -np.sqrt(((emb[inverse[:, 0]] - emb[inverse[:, 1]]) ** 2).sum(axis=1))


def one_shot_credit(scores, answers) -> np.ndarray:
    """Credit of each N-way trial: 1 / (number of top-scoring candidates) when the
    answer is among them, else 0.

    A scorer that gives several candidates the same top score (a saturated sigmoid,
    a constant model) earns only its share instead of being credited by the
    answer's position, so a constant scorer scores exactly chance, ``1 / N``.

    Parameters
    ----------
    scores : array-like
        ``(n_trials, n_way)`` similarities (higher = more alike).
    answers : array-like
        ``(n_trials,)`` position of the right candidate.

    Returns
    -------
    numpy.ndarray
        ``(n_trials,)`` float credit in ``[0, 1]``; its mean is the accuracy.

    Raises
    ------
    ValueError
        If a score is NaN or infinite, or the shapes do not match.
    """
    scores = np.asarray(scores, dtype=np.float64)
    answers = np.asarray(answers).ravel()
    if scores.ndim != 2 or scores.shape[0] != len(answers) or scores.size == 0:
        raise ValueError(f"scores must be (n_trials, n_way) with one answer per trial, got {scores.shape} "
                         f"and {answers.shape}")
    if not np.isfinite(scores).all():
        raise ValueError("one-shot scores contain NaN or infinity; the model's output is not usable")
    if answers.min() < 0 or answers.max() >= scores.shape[1]:
        raise ValueError(f"answers must be candidate positions 0..{scores.shape[1] - 1}")
    top = scores == scores.max(axis=1, keepdims=True)
    return top[np.arange(len(answers)), answers] / top.sum(axis=1)


def _trial_images(trials: OneShotTrials) -> tuple[np.ndarray, np.ndarray]:
    """The distinct images of ``trials`` and, per trial, the positions of its query (column 0)
    and candidates among them: each image is embedded once."""
    used, inverse = np.unique(np.concatenate([trials.queries[:, None], trials.candidates], 1),
                              return_inverse=True)
    return used, inverse.reshape(len(trials), trials.n_way + 1)


def one_shot_scores(model, trials: OneShotTrials, *, batch_size: int = 256) -> np.ndarray:
    """``(n_trials, n_way)`` scores of a pair model: P(same) of the query with each candidate.

    Each distinct image goes through the tower once; the head scores the pairs.
    """
    tower, head = _tower_and_head(model)
    used, inverse = _trial_images(trials)
    emb = embed_images(tower, trials.images[used], batch_size=batch_size)
    q = np.repeat(inverse[:, :1], trials.n_way, axis=1).ravel()
    c = inverse[:, 1:].ravel()
    return np.asarray(head.predict([emb[q], emb[c]], batch_size=4096, verbose=0)).reshape(len(trials), -1)


def embedding_spread(embedder, images: np.ndarray, *, batch_size: int = 256) -> float:
    """Mean Euclidean distance between the embeddings of all pairs of ``images``.

    Compare it with the loss's margin: when random faces lie closer together than
    the margin asks different people to be, the embedding has collapsed (every
    face maps to nearly the same point) and its scores mean little.
    """
    emb = embed_images(embedder, images, batch_size=batch_size).astype(np.float64)
    if len(emb) < 2 or not np.isfinite(emb).all():
        raise ValueError("embedding_spread needs at least two images with finite embeddings")
    sq = (emb ** 2).sum(axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * emb @ emb.T, 0.0)
    iu = np.triu_indices(len(emb), k=1)
    return float(np.sqrt(d2[iu]).mean())


def embedding_one_shot_scores(embedder, trials: OneShotTrials, *, batch_size: int = 256) -> np.ndarray:
    """``(n_trials, n_way)`` cosine similarity of the query's embedding to each candidate's."""
    used, inverse = _trial_images(trials)
    emb = embed_images(embedder, trials.images[used], batch_size=batch_size).astype(np.float64)
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    if not np.isfinite(emb).all() or (norms == 0).any():
        raise ValueError("the embedder returned NaN, infinite or zero embeddings")
    emb /= norms
    return np.einsum("nd,nkd->nk", emb[inverse[:, 0]], emb[inverse[:, 1:]])


def pixel_one_shot_scores(trials: OneShotTrials) -> np.ndarray:
    """``(n_trials, n_way)`` minus the Euclidean pixel distance of the query to each candidate."""
    q = trials.images[trials.queries].reshape(len(trials), 1, -1).astype(np.float32)
    c = trials.images[trials.candidates].reshape(len(trials), trials.n_way, -1).astype(np.float32)
    return -np.sqrt(((q - c) ** 2).sum(axis=-1))


def one_shot_accuracy(model, trials: OneShotTrials, *, batch_size: int = 256) -> tuple[float, np.ndarray]:
    """N-way one-shot accuracy of a pair model (ties split, see :func:`one_shot_credit`).

    Returns
    -------
    accuracy : float
    predictions : numpy.ndarray
        ``(n_trials,)`` chosen candidate positions (the first of tied top candidates).
    """
    scores = one_shot_scores(model, trials, batch_size=batch_size)
    return float(one_shot_credit(scores, trials.answers).mean()), scores.argmax(axis=1)


def nearest_neighbour_one_shot(trials: OneShotTrials) -> tuple[float, np.ndarray]:
    """The 1-nearest-neighbour baseline: the candidate with the smallest pixel (L2) distance.

    Returns
    -------
    accuracy : float
    predictions : numpy.ndarray
    """
    scores = pixel_one_shot_scores(trials)
    return float(one_shot_credit(scores, trials.answers).mean()), scores.argmax(axis=1)


def paired_difference(a, b) -> tuple[float, float]:
    """Mean difference of two methods scored on the same items, and its standard error.

    ``a`` and ``b`` are per-item results of two methods on the *same* items (0/1
    correctness, or one-shot credit). The standard error of the mean difference,
    ``std(a - b, ddof=1) / sqrt(n)``, accounts for items both get right or wrong,
    so it is smaller than treating the two accuracies as independent.

    Returns
    -------
    difference, standard_error : float
    """
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape or a.size < 2:
        raise ValueError(f"a and b must be per-item results on the same items (at least 2), got {a.shape} "
                         f"and {b.shape}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("per-item results contain NaN or infinity")
    d = a - b
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(d.size))


class FarNotObservableWarning(UserWarning):
    """A target false-accept rate is below what the impostor scores given can show."""


def _impostors_allowed(target_far: float, n_impostors: int) -> int:
    """How many of ``n_impostors`` scores a threshold for ``target_far`` may accept:
    ``floor(target_far * n)``; 0 for a positive target means it cannot be observed."""
    return int(np.floor(target_far * n_impostors + 1e-9))


def threshold_at_far(impostor_scores, target_far: float, *, warn: bool = True) -> float:
    """The most permissive threshold whose false-accept rate on ``impostor_scores`` is at most ``target_far``.

    FAR(t) is the fraction of impostor (different-identity) scores ``>= t``. With
    ``m`` impostor scores at most ``j = floor(target_far * m)`` may be accepted, so
    the threshold sits just above the ``(j + 1)``-th highest impostor score (the next
    float up, on the scores' own scale): any lower threshold would accept one more.

    When ``target_far * m < 1`` the target cannot be observed on these scores (the
    smallest non-zero FAR they can show is ``1 / m``): the threshold then accepts no
    impostor, just above the highest, and a :class:`FarNotObservableWarning` says so
    (``warn=False`` silences it).
    """
    import warnings

    scores = np.sort(np.asarray(impostor_scores, dtype=np.float64).ravel())[::-1]
    if scores.size == 0 or not np.isfinite(scores).all():
        raise ValueError("impostor_scores must be a non-empty array of finite numbers")
    if not 0 <= target_far < 1:
        raise ValueError(f"target_far must be in [0, 1), got {target_far}")
    accepted = _impostors_allowed(target_far, scores.size)
    if accepted == 0 and target_far > 0 and warn:
        warnings.warn(f"a FAR of {target_far:g} cannot be observed on {scores.size} impostor scores (the "
                      f"smallest non-zero FAR they can show is 1/{scores.size} = {1 / scores.size:.2g}); "
                      f"the threshold accepts none of them", FarNotObservableWarning, stacklevel=2)
    return float(np.nextafter(scores[accepted], np.inf))


def lfw_ten_fold(scores, labels, folds, *, far_target: float = 1e-3, fpr_grid_size: int = 1001,
                 scored_folds=None) -> dict:
    """The LFW View 2 protocol on scored ``pairs.txt`` pairs.

    For each fold *k*: the accuracy threshold is chosen on the other nine folds
    (:func:`best_threshold`: the accuracy-maximising midpoint, smallest on ties;
    ``score >= threshold`` means same) and the held-out fold is scored with it.
    Also per fold: the threshold for ``far_target`` is set on the other nine folds'
    different pairs (:func:`threshold_at_far`) and the held-out fold's true-accept
    rate (TAR) and false-accept rate (FAR) are measured at it. ROC curves are
    averaged over folds at fixed false-accept rates (vertical averaging); AUC and
    the equal error rate (EER, where FAR = 1 - TAR) are read off that mean curve.

    With one model per fold (each trained without that fold's people), pass a
    matrix: row *k* holds the scores that fold *k*'s model gives to every pair.
    ``scored_folds`` restricts the protocol to some folds (a reduced run that
    trains fewer models); their thresholds still come from all the other folds.
    Fold *k* is then scored with row *k* and its thresholds are chosen on row *k*'s
    scores of the other folds, so every threshold comes from the model it is
    applied to, never from other models whose score scales need not agree.

    Parameters
    ----------
    scores : array-like
        One similarity score per pair, or ``(n_folds, n_pairs)`` per-fold-model
        scores (rows in the order of the sorted fold ids).
    labels, folds : array-like
        One entry per pair: label (1 same, 0 different), fold.
    far_target : float, default=1e-3
    fpr_grid_size : int
        Points of the common false-accept-rate grid.
    scored_folds : sequence of fold ids or None
        The folds scored (at least two; ``None``: all). A score matrix then has one
        row per scored fold, in this order.

    Returns
    -------
    dict
        ``accuracy_mean``, ``accuracy_std`` (over folds, ddof=1), ``accuracy_sem``
        (``std / sqrt(folds)``, LFW's reporting rule), ``fold_accuracies``, ``auc``,
        ``eer``, ``tar_at_far`` and ``far_at_far`` (means over folds), ``fpr`` and
        ``tpr`` (the mean ROC), and ``far_observable``: False when some fold's
        threshold for ``far_target`` was set on fewer than ``1 / far_target``
        impostor scores, so that the target could not be observed (the threshold
        then accepts none of them; see :func:`threshold_at_far`). Also ``folds``
        (the scored fold ids), ``pairs`` (the index of their pairs, fold by fold)
        and ``correct`` (whether each of those pairs was classified right, for
        :func:`paired_difference` between methods scored on the same folds).
    """
    from sklearn.metrics import roc_curve

    labels = np.asarray(labels).ravel()
    folds = np.asarray(folds).ravel()
    matrix = np.asarray(scores, dtype=np.float64)
    ids = np.unique(folds)
    if scored_folds is not None:
        scored = np.asarray(scored_folds).ravel()
        unknown = sorted(set(scored.tolist()) - set(ids.tolist()))
        if unknown or len(np.unique(scored)) != len(scored) or len(scored) < 2:
            raise ValueError(f"scored_folds must be at least two distinct fold ids of {ids.tolist()}, "
                             f"got {scored.tolist()}")
        ids_scored = scored
    else:
        ids_scored = ids
    if matrix.ndim == 2:
        if matrix.shape != (len(ids_scored), len(labels)):
            raise ValueError(f"per-fold scores must be (scored folds, n_pairs) = ({len(ids_scored)}, "
                             f"{len(labels)}), got {matrix.shape}")
        for row in matrix:
            _check_scores(row, labels)
        labels = labels.astype(np.int64)
    else:
        flat, labels = _check_scores(matrix, labels)
        matrix = np.broadcast_to(flat, (len(ids_scored), len(flat)))
    if folds.shape != labels.shape:
        raise ValueError(f"folds must have one entry per pair, got {folds.shape} for {labels.shape}")
    if len(ids) < 2:
        raise ValueError("the protocol needs at least two folds")
    grid = np.linspace(0.0, 1.0, fpr_grid_size)
    accs, tars, fars, tprs, pairs, correct = [], [], [], [], [], []
    observable = True
    for row, k in enumerate(ids_scored):
        scores = matrix[row]
        test, train = folds == k, folds != k
        if len(np.unique(labels[test])) < 2:
            raise ValueError(f"fold {k} lacks same or different pairs")
        t, _ = best_threshold(scores[train], labels[train])
        accs.append(accuracy_at(scores[test], labels[test], t))
        pairs.append(np.flatnonzero(test))
        correct.append((scores[test] >= t) == (labels[test] == 1))
        impostors = scores[train & (labels == 0)]
        observable &= far_target == 0 or _impostors_allowed(far_target, len(impostors)) >= 1
        t_far = threshold_at_far(impostors, far_target, warn=False)
        tars.append(float(np.mean(scores[test & (labels == 1)] >= t_far)))
        fars.append(float(np.mean(scores[test & (labels == 0)] >= t_far)))
        fpr, tpr, _ = roc_curve(labels[test], scores[test])
        tprs.append(np.interp(grid, fpr, tpr))
    mean_tpr = np.mean(tprs, axis=0)
    auc = float(np.trapezoid(mean_tpr, grid))
    frr = 1.0 - mean_tpr
    i = int(np.argmin(np.abs(frr - grid)))
    eer = float((grid[i] + frr[i]) / 2)
    accs = np.asarray(accs)
    return {
        "accuracy_mean": float(accs.mean()),
        "accuracy_std": float(accs.std(ddof=1)),
        "accuracy_sem": float(accs.std(ddof=1) / np.sqrt(len(accs))),
        "fold_accuracies": accs.tolist(),
        "auc": auc,
        "eer": eer,
        "tar_at_far": float(np.mean(tars)),
        "far_at_far": float(np.mean(fars)),
        "far_target": far_target,
        "far_observable": observable,
        "fpr": grid,
        "tpr": mean_tpr,
        "folds": ids_scored.tolist(),
        "pairs": np.concatenate(pairs),
        "correct": np.concatenate(correct),
    }


def view2_protocol(view2: PairSet, people, fit, score, *, far_target: float = 1e-3, folds=None,
                   progress: bool = True) -> dict:
    """Score a method on LFW View 2 with identity-disjoint training for every fold.

    For each fold *k*, ``fit`` gets every image of ``people`` except those of the
    people in fold *k* (checked with
    :func:`~siamese_lessons.pairs.check_no_identity_leakage`), and ``score`` scores
    **every** View 2 pair with what ``fit`` returned. Fold *k* is scored by its own
    model, and its accuracy and FAR thresholds are chosen on that same model's
    scores of the other nine folds (:func:`~siamese_lessons.evaluation.lfw_ten_fold`
    with per-fold scores): a threshold always comes from the model it is applied to.
    (Those nine folds hold people model *k* trained on, so its thresholds are set
    on familiar faces; the alternative, held-out people of its own training data,
    costs a second split per fold.)

    Parameters
    ----------
    view2 : PairSet
        ``load_lfw_pairs("10_folds", ...)`` (with ``folds``).
    people : IdentitySet
        Identity-labelled training images (e.g. ``load_lfw_people`` at the same size).
    fit : callable(IdentitySet) -> model
    score : callable(model, PairSet, index) -> numpy.ndarray
        Similarity scores (higher = same) of ``view2``'s pairs at ``index``.
    far_target : float
    folds : sequence of fold ids or None
        Train and score only these folds (a reduced run; see ``scored_folds`` of
        :func:`lfw_ten_fold`). ``None``: all ten.
    progress : bool
        Show a progress bar over folds.

    Returns
    -------
    dict
        :func:`~siamese_lessons.evaluation.lfw_ten_fold`'s result plus ``scores``,
        the ``(n_folds, n_pairs)`` per-fold-model scores.
    """
    from tqdm import tqdm

    from .pairs import check_no_identity_leakage, exclude_identities

    if view2.folds is None:
        raise ValueError("view2 has no folds; load it with load_lfw_pairs('10_folds')")
    ids = np.unique(view2.folds) if folds is None else np.asarray(folds).ravel()
    unknown = sorted(set(ids.tolist()) - set(np.unique(view2.folds).tolist()))
    if unknown or len(ids) < 2:
        raise ValueError(f"folds must be at least two fold ids of view2, got {ids.tolist()}")
    everything = np.arange(len(view2))
    scores = np.full((len(ids), len(view2)), np.nan)
    reused: dict = {}
    for row, k in enumerate(tqdm(ids, desc="folds", disable=not progress)):
        fold_pairs = view2.subset(np.flatnonzero(view2.folds == k))
        training = exclude_identities(people, fold_pairs)
        check_no_identity_leakage(training, fold_pairs, context=f"training for fold {k}")
        model = fit(training)
        if model is None and "untrained" in reused:  # a method without a model scores the same every fold
            scores[row] = reused["untrained"]
            continue
        scores[row] = np.asarray(score(model, view2, everything), dtype=np.float64)
        if model is None:
            reused["untrained"] = scores[row]
    if not np.isfinite(scores).all():
        raise ValueError("some View 2 pairs were not scored")
    result = lfw_ten_fold(scores, view2.labels, view2.folds, far_target=far_target,
                          scored_folds=None if folds is None else ids)
    result["scores"] = scores
    return result


def identify(gallery, gallery_labels, probes, *, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Rank the enrolled identities for each probe: "who is this?".

    An identity's score for a probe is the best similarity (minus the Euclidean
    distance, as in :func:`embedding_pair_scores`) between the probe and any of that
    identity's gallery embeddings.

    Parameters
    ----------
    gallery : array-like, shape (n_gallery, d)
        Embeddings of the enrolled images.
    gallery_labels : array-like, shape (n_gallery,)
        Identity of each enrolled image.
    probes : array-like, shape (n_probes, d)
    k : int
        How many identities to return per probe (at most the number enrolled).

    Returns
    -------
    top_labels : numpy.ndarray, shape (n_probes, k)
        Identities, best first (ties: the identity listed first in ``gallery_labels``).
    top_scores : numpy.ndarray, shape (n_probes, k)
    """
    gallery = np.asarray(gallery, dtype=np.float64)
    probes = np.asarray(probes, dtype=np.float64)
    gallery_labels = np.asarray(gallery_labels).ravel()
    if gallery.ndim != 2 or probes.ndim != 2 or gallery.shape[1] != probes.shape[1]:
        raise ValueError(f"gallery and probes must be (n, d) embeddings of one d, got {gallery.shape} and "
                         f"{probes.shape}")
    if len(gallery) == 0 or len(probes) == 0 or len(gallery_labels) != len(gallery):
        raise ValueError("identify needs a non-empty gallery with one label per embedding, and probes")
    if not (np.isfinite(gallery).all() and np.isfinite(probes).all()):
        raise ValueError("gallery or probe embeddings contain NaN or infinity")
    names, first = np.unique(gallery_labels, return_index=True)
    names = names[np.argsort(first)]  # enrolment order
    if not 1 <= k <= len(names):
        raise ValueError(f"k must be between 1 and the {len(names)} enrolled identities, got {k}")
    d2 = ((probes ** 2).sum(1)[:, None] + (gallery ** 2).sum(1)[None, :] - 2 * probes @ gallery.T)
    similarity = -np.sqrt(np.maximum(d2, 0.0))
    per_identity = np.stack([similarity[:, gallery_labels == name].max(axis=1) for name in names], axis=1)
    order = np.argsort(-per_identity, axis=1, kind="stable")[:, :k]
    return names[order], np.take_along_axis(per_identity, order, axis=1)


def open_set_identification(top_labels, top_scores, probe_labels, enrolled, threshold: float) -> dict:
    """How an identification system does on probes of enrolled and of unknown people.

    Parameters
    ----------
    top_labels, top_scores : array-like, shape (n_probes, k)
        :func:`identify`'s ranking.
    probe_labels : array-like, shape (n_probes,)
        The probes' true identities.
    enrolled : array-like
        The identities in the gallery; a probe of anyone else is an *unknown* person,
        who should be rejected.
    threshold : float
        A probe is answered with its best identity when that score is at least
        ``threshold``, and rejected ("unknown") otherwise.

    Returns
    -------
    dict
        Over the probes of enrolled people: ``rank1`` (best identity right),
        ``recall_at_k`` (right one among the first ``j``, for each ``j`` up to ``k``)
        and ``dir`` (detection and identification rate: right *and* accepted). Over
        the unknown probes: ``far`` (accepted as someone). Plus ``n_known`` and
        ``n_unknown``.
    """
    top_labels = np.asarray(top_labels)
    top_scores = np.asarray(top_scores, dtype=np.float64)
    probe_labels = np.asarray(probe_labels).ravel()
    if top_labels.shape != top_scores.shape or top_labels.ndim != 2 or len(top_labels) != len(probe_labels):
        raise ValueError(f"top_labels and top_scores must be (n_probes, k) for {len(probe_labels)} probes, "
                         f"got {top_labels.shape} and {top_scores.shape}")
    if not np.isfinite(top_scores).all() or not np.isfinite(threshold):
        raise ValueError("scores and threshold must be finite")
    known = np.isin(probe_labels, np.asarray(enrolled).ravel())
    if not known.any():
        raise ValueError("no probe belongs to an enrolled identity")
    hits = top_labels == probe_labels[:, None]
    accepted = top_scores[:, 0] >= threshold
    return {
        "rank1": float(hits[known, 0].mean()),
        "recall_at_k": {j: float(hits[known, :j].any(axis=1).mean())
                        for j in range(1, top_labels.shape[1] + 1)},
        "dir": float((hits[known, 0] & accepted[known]).mean()),
        "far": float(accepted[~known].mean()) if (~known).any() else float("nan"),
        "n_known": int(known.sum()),
        "n_unknown": int((~known).sum()),
    }


def recall_at_k(embeddings, labels, ks=(1, 5, 10)) -> dict[int, float]:
    """Identification recall@k: for each item, is an item of the same identity among
    its ``k`` nearest neighbours (Euclidean, excluding itself)?

    Only items whose identity has at least one other item count as queries.
    """
    emb = np.asarray(embeddings, dtype=np.float64)
    labels = np.asarray(labels).ravel()
    if emb.ndim != 2 or len(emb) != len(labels):
        raise ValueError("embeddings must be (n, d) with one label per row")
    if not np.isfinite(emb).all():
        bad = np.flatnonzero(~np.isfinite(emb).all(axis=1))
        raise ValueError(f"embeddings contain NaN or infinity ({len(bad)} rows, first at row {bad[0]}); "
                         "the model's output is not usable")
    d = ((emb[:, None, :] - emb[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    order = np.argsort(d, axis=1, kind="stable")[:, :-1]  # the last is the item itself (distance inf)
    match = labels[order] == labels[:, None]
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    queries = counts[inverse] >= 2
    if not queries.any():
        raise ValueError("no identity has two items; recall@k is undefined")
    return {int(k): float(match[queries, :k].any(axis=1).mean()) for k in ks}


def compare_verifiers(validation_scores, validation_labels, test_scores, test_labels):
    """Score several verifiers the honest way: each one's threshold is chosen on its own
    validation scores, then applied once to the test pairs.

    Parameters
    ----------
    validation_scores, test_scores : mapping of str to array-like
        Per method, similarity scores of the validation and of the test pairs
        (same methods in both).
    validation_labels, test_labels : array-like
        1 = same, 0 = different.

    Returns
    -------
    table : pandas.DataFrame
        Per method: ``threshold``, ``validation accuracy``, ``test accuracy`` (at the
        validation threshold) and ``test AUC``.
    correct : dict of str to numpy.ndarray
        Per method, which test pairs it got right (for :func:`margin_table`).
    """
    import pandas as pd

    if set(validation_scores) != set(test_scores):
        raise ValueError(f"validation and test scores name different methods: {sorted(validation_scores)} "
                         f"vs {sorted(test_scores)}")
    rows, correct = {}, {}
    for name, scores in test_scores.items():
        threshold, val_acc = best_threshold(validation_scores[name], validation_labels)
        scores, labels = _check_scores(scores, test_labels)
        correct[name] = (scores >= threshold) == (labels == 1)
        rows[name] = {"threshold": threshold, "validation accuracy": val_acc,
                      "test accuracy": float(correct[name].mean()), "test AUC": roc_auc(scores, labels)[3]}
    return pd.DataFrame(rows).T, correct


def margin_table(results, comparisons):
    """Margins of models over what they are compared with, on the same items, with the paired
    standard error of each (see :func:`paired_difference`).

    Parameters
    ----------
    results : mapping of str to array-like
        Per method, per-item results (0/1 correctness or one-shot credit).
    comparisons : sequence of (str, str)
        ``(model, versus)`` names from ``results``.

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``versus``, ``margin``, ``standard error``, ``margin / SE``.
    """
    import pandas as pd

    rows = []
    for model, versus in comparisons:
        missing = {model, versus} - set(results)
        if missing:
            raise ValueError(f"no results for {sorted(missing)}; have {sorted(results)}")
        diff, se = paired_difference(results[model], results[versus])
        rows.append({"model": model, "versus": versus, "margin": diff, "standard error": se,
                     "margin / SE": diff / se if se > 0 else float("inf") if diff > 0 else float("nan")})
    return pd.DataFrame(rows)


def describe_margins(margins, what: str = "accuracy") -> list[str]:
    """One sentence per row of :func:`margin_table`: does the model beat what it is compared
    with by more than the paired standard error, and by how much.

    Examples
    --------
    >>> import pandas as pd
    >>> describe_margins(pd.DataFrame([{"model": "a", "versus": "b", "margin": 0.05,
    ...                                 "standard error": 0.02, "margin / SE": 2.5}]))[0]
    'a beats b by more than a standard error: +0.050 accuracy (paired SE 0.020, +2.5 SE)'
    """
    lines = []
    for _, m in margins.iterrows():
        verdict = "beats" if m["margin"] > m["standard error"] else "does NOT beat"
        lines.append(f"{m['model']} {verdict} {m['versus']} by more than a standard error: "
                     f"{m['margin']:+.3f} {what} (paired SE {m['standard error']:.3f}, "
                     f"{m['margin / SE']:+.1f} SE)")
    return lines


def paired_auc_difference(scores_a, scores_b, labels, *, n_boot: int = 1000,
                          seed: int = 0) -> tuple[float, float]:
    """ROC AUC of ``scores_a`` minus that of ``scores_b`` on the same pairs, and the
    bootstrap standard error of that difference.

    Each bootstrap draw resamples the pairs with replacement (the same pairs for both
    methods, so their correlation is kept) and recomputes both AUCs; the standard
    error is the standard deviation of the ``n_boot`` differences.

    Returns
    -------
    difference, standard_error : float
    """
    a, labels = _check_scores(scores_a, labels)
    b, _ = _check_scores(scores_b, labels)
    if labels.min() == labels.max():
        raise ValueError("labels must hold both same (1) and different (0) pairs")
    if n_boot < 2:
        raise ValueError(f"n_boot must be at least 2, got {n_boot}")
    rng = np.random.default_rng(seed)
    diffs = []
    while len(diffs) < n_boot:  # blocks of up to 100 resamples: 100 x n numbers in memory
        block = []
        while len(block) < min(100, n_boot - len(diffs)):
            i = rng.integers(0, len(labels), len(labels))
            if labels[i].min() != labels[i].max():
                block.append(i)
        rows = np.asarray(block)
        diffs.extend(_rank_auc(a[rows], labels[rows]) - _rank_auc(b[rows], labels[rows]))
    return float(roc_auc(a, labels)[3] - roc_auc(b, labels)[3]), float(np.std(diffs, ddof=1))


def _rank_auc(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """ROC AUC of each row of ``scores`` (rows: resamples) by the Mann-Whitney rank sum,
    ties at half credit: the area :func:`roc_auc` gives, for many rows at once."""
    from scipy.stats import rankdata

    positive = labels == 1
    n_pos = positive.sum(axis=-1)
    rank_sum = np.where(positive, rankdata(scores, axis=-1), 0.0).sum(axis=-1)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * (labels.shape[-1] - n_pos))
