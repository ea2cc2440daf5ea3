import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from siamese_lessons.evaluation import lfw_ten_fold, recall_at_k, threshold_at_far


def test_threshold_at_far_hand_cases():
    impostors = np.arange(1000) / 1000.0  # 0.000 ... 0.999
    t = threshold_at_far(impostors, 1e-3)  # at most 1 of 1000 accepted: just above 0.998
    assert np.sum(impostors >= t) == 1 and t == np.nextafter(0.998, 1.0)
    t0 = threshold_at_far(impostors, 0.0)
    assert np.sum(impostors >= t0) == 0 and t0 == np.nextafter(0.999, 1.0)
    assert np.sum(impostors >= threshold_at_far(impostors, 0.01)) == 10
    # Ties: 3 impostors at 0.5, target allows 2: none of the tied three may be accepted.
    assert threshold_at_far([0.5, 0.5, 0.5, 0.1], 0.5) == np.nextafter(0.5, 1.0)
    with pytest.raises(ValueError):
        threshold_at_far([], 0.1)


def test_threshold_at_far_stays_on_the_scores_scale_and_warns_when_unobservable():
    from siamese_lessons.evaluation import FarNotObservableWarning

    # Perfectly separable scores in [0, 0.5]: genuine pairs just above every impostor must be accepted
    # (the old "highest impostor + 1.0" threshold rejected them all: TAR 0 instead of 1).
    impostors, genuine = np.linspace(0.0, 0.3, 300), np.linspace(0.31, 0.5, 300)
    with pytest.warns(FarNotObservableWarning, match="1/300"):
        t = threshold_at_far(impostors, 1e-3)
    assert np.mean(genuine >= t) == 1.0 and np.mean(impostors >= t) == 0.0
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        threshold_at_far(impostors, 1e-3, warn=False)
        threshold_at_far(impostors, 1e-2)  # 3 of 300 may be accepted: observable, no warning


def _synthetic(seed=0, n_folds=10, per=30, sep=1.5):
    rng = np.random.default_rng(seed)
    folds = np.repeat(np.arange(n_folds), 2 * per)
    labels = np.tile(np.r_[np.ones(per), np.zeros(per)], n_folds).astype(int)
    scores = rng.normal(size=len(labels)) + sep * labels
    return scores, labels, folds


def _brute_force_threshold(scores, labels):
    """The protocol's rule written out independently: try every midpoint between sorted distinct
    scores (and one below, one above), keep the most accurate, the smallest on ties."""
    distinct = sorted(set(scores.tolist()))
    midpoints = [(a + b) / 2 for a, b in zip(distinct[:-1], distinct[1:], strict=True)]
    candidates = [distinct[0] - 1.0, *midpoints, distinct[-1] + 1.0]
    best_t, best_acc = None, -1.0
    for t in candidates:
        acc = sum((s >= t) == (y == 1) for s, y in zip(scores, labels, strict=True)) / len(scores)
        if acc > best_acc:
            best_t, best_acc = t, acc
    return best_t


def test_ten_fold_accuracy_matches_a_loop_reference():
    scores, labels, folds = _synthetic()
    out = lfw_ten_fold(scores, labels, folds)
    ref = []
    for k in range(10):
        t = _brute_force_threshold(scores[folds != k], labels[folds != k])
        ref.append(np.mean((scores[folds == k] >= t) == (labels[folds == k] == 1)))
    assert out["fold_accuracies"] == pytest.approx(ref)
    assert out["accuracy_mean"] == pytest.approx(np.mean(ref))
    assert out["accuracy_std"] == pytest.approx(np.std(ref, ddof=1))
    assert out["accuracy_sem"] == pytest.approx(np.std(ref, ddof=1) / np.sqrt(10))


def test_ten_fold_auc_eer_and_tar():
    scores, labels, folds = _synthetic(sep=1.5, per=300)
    out = lfw_ten_fold(scores, labels, folds, far_target=1e-2)
    per_fold_auc = np.mean([roc_auc_score(labels[folds == k], scores[folds == k]) for k in range(10)])
    assert out["auc"] == pytest.approx(per_fold_auc, abs=2e-3)
    # Two unit Gaussians 1.5 apart: EER = Phi(-0.75) = 0.2266
    assert out["eer"] == pytest.approx(0.2266, abs=0.02)
    assert out["far_at_far"] <= 0.03 and 0 < out["tar_at_far"] < 1
    perfect = lfw_ten_fold(labels * 2.0, labels, folds)
    assert perfect["accuracy_mean"] == 1.0 and perfect["auc"] == pytest.approx(1.0) and perfect["eer"] < 1e-3
    assert perfect["tar_at_far"] == 1.0 and perfect["far_at_far"] == 0.0
    # Separable scores on a small scale: TAR is 1, not 0 (the old offset of +1.0 gave 0). With 30
    # impostors a fold, 270 calibrate each threshold: FAR 1e-3 cannot be observed, and the result says so.
    _, few_labels, few_folds = _synthetic(per=30)
    small = lfw_ten_fold(0.2 + 0.3 * few_labels, few_labels, few_folds, far_target=1e-3)
    assert small["tar_at_far"] == 1.0 and small["far_observable"] is False
    assert out["far_observable"] is True  # 2,700 impostors calibrate FAR 1e-2 (27 may pass)


def test_scoring_some_folds_keeps_each_folds_thresholds_from_all_the_others():
    scores, labels, folds = _synthetic()
    out = lfw_ten_fold(scores, labels, folds, scored_folds=[3, 7])
    ref, ref_correct = [], []
    for k in (3, 7):
        t = _brute_force_threshold(scores[folds != k], labels[folds != k])
        right = (scores[folds == k] >= t) == (labels[folds == k] == 1)
        ref.append(right.mean())
        ref_correct.append(right)
    assert out["folds"] == [3, 7] and out["fold_accuracies"] == pytest.approx(ref)
    np.testing.assert_array_equal(out["pairs"], np.r_[np.flatnonzero(folds == 3), np.flatnonzero(folds == 7)])
    np.testing.assert_array_equal(out["correct"], np.concatenate(ref_correct))
    # Per-fold-model scores then have one row per scored fold.
    rows = np.stack([scores, -scores])
    flipped = lfw_ten_fold(rows, labels, folds, scored_folds=[3, 7])
    assert flipped["fold_accuracies"][0] == pytest.approx(ref[0]) and flipped["fold_accuracies"][1] <= 0.5
    for bad in ([3], [3, 3], [3, 11]):
        with pytest.raises(ValueError, match="scored_folds"):
            lfw_ten_fold(scores, labels, folds, scored_folds=bad)
    with pytest.raises(ValueError, match="scored folds"):
        lfw_ten_fold(np.stack([scores] * 3), labels, folds, scored_folds=[3, 7])


def test_ten_fold_rejects_bad_input():
    scores, labels, folds = _synthetic()
    with pytest.raises(ValueError, match="folds"):
        lfw_ten_fold(scores, labels, folds[:-1])
    with pytest.raises(ValueError, match="two folds"):
        lfw_ten_fold(scores, labels, np.zeros_like(folds))


def test_recall_at_k_hand_case():
    emb = np.array([[0.0], [0.1], [5.0], [5.2], [9.0]])
    labels = np.array([0, 0, 1, 2, 1])
    # item 0 -> nearest 1 (same); 1 -> 0 (same); 2 -> 3 (diff), 2nd 4 (same); 4 -> 3 (diff), then 2 (same)
    # item 3 has no other item of its identity: not a query
    r = recall_at_k(emb, labels, ks=(1, 2))
    assert r == {1: pytest.approx(2 / 4), 2: pytest.approx(4 / 4)}
    # NaN embeddings used to score 1.0 (every distance NaN, each item "matched itself"): now an error.
    nan = emb.copy()
    nan[2] = np.nan
    with pytest.raises(ValueError, match="NaN.*row 2"):
        recall_at_k(nan, labels)


def test_check_label_direction_catches_inverted_labels():
    from siamese_lessons.evaluation import check_label_direction

    scores, labels = np.array([0.9, 0.8, 0.2, 0.1]), np.array([1, 1, 0, 0])
    assert check_label_direction(scores, labels) == 1.0
    with pytest.raises(ValueError, match="label convention"):
        check_label_direction(scores, 1 - labels)
    with pytest.raises(ValueError, match="minus a distance"):
        check_label_direction(-scores, labels, what="distances")


def _two_folds():
    """Two folds of 4 pairs (labels 1, 1, 0, 0 each) scored by one model per fold, worked by hand.

    Row 0 (fold 0's model): fold 1 (its training side) 0.9 0.8 | 0.3 0.2 -> accuracy threshold 0.55
    (midpoint of 0.3 and 0.8); FAR 0.5 on impostors (0.3, 0.2) accepts 1 -> just above 0.2.
    Fold 0 (its test side): 0.55 0.6 | 0.5 0.1 -> 4/4 right (0.55 sits exactly on the threshold: >=).
    Row 1 (fold 1's model): fold 0 side 0.7 0.65 | 0.6 0.0 -> threshold 0.625; FAR 0.5 -> just above 0.0.
    Fold 1: 0.9 0.62 | 0.61 0.1 -> 3/4 right (0.62 < 0.625 is missed).
    """
    labels = np.array([1, 1, 0, 0, 1, 1, 0, 0])
    folds = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    rows = np.array([[0.55, 0.6, 0.5, 0.1, 0.9, 0.8, 0.3, 0.2],
                     [0.7, 0.65, 0.6, 0.0, 0.9, 0.62, 0.61, 0.1]])
    return rows, labels, folds


def test_per_fold_models_use_their_own_scores_for_thresholds_and_tar_far_exactly():
    rows, labels, folds = _two_folds()
    out = lfw_ten_fold(rows, labels, folds, far_target=0.5)
    # A strict ">" at the threshold would give fold 0 only 3/4.
    assert out["fold_accuracies"] == [1.0, 0.75]
    # TAR: fold 0 accepts both genuine (>= just above 0.2), fold 1 both (>= just above 0.0) -> 1.0.
    # FAR: fold 0 accepts 0.5 of (0.5, 0.1) -> 0.5; fold 1 accepts both 0.61 and 0.1 -> 1.0; mean 0.75.
    assert out["tar_at_far"] == 1.0 and out["far_at_far"] == 0.75 and out["far_observable"] is True
    # Thresholds from another model's scores (the diagonal as one vector) give other numbers.
    mixed = np.where(folds == 0, rows[0], rows[1])
    assert lfw_ten_fold(mixed, labels, folds, far_target=0.5)["fold_accuracies"] != [1.0, 0.75]


def test_only_the_training_folds_set_a_folds_thresholds():
    rows, labels, folds = _two_folds()
    # Changing the test fold's labels flips its accuracy and leaves its thresholds alone.
    flipped = labels.copy()
    flipped[folds == 0] = 1 - flipped[folds == 0]
    assert lfw_ten_fold(rows, flipped, folds, far_target=0.5)["fold_accuracies"][0] == 0.0
    # Changing the test fold's impostor scores changes its FAR but not its threshold: fold 0's impostors
    # raised above every genuine score are both accepted at the threshold set on fold 1.
    raised = rows.copy()
    raised[0, 2:4] = [0.95, 0.96]
    out = lfw_ten_fold(raised, labels, folds, far_target=0.5)
    assert out["fold_accuracies"][0] == 0.5 and out["far_at_far"] == (1.0 + 1.0) / 2
    # Changing only the training side of model 0 moves fold 0's threshold: 0.8 -> 0.58 puts it at 0.44.
    moved = rows.copy()
    moved[0, 4:6] = [0.58, 0.58]
    assert lfw_ten_fold(moved, labels, folds, far_target=0.5)["fold_accuracies"][0] == 0.75


def test_roc_comes_from_each_folds_test_side_only():
    rng = np.random.default_rng(0)
    labels = np.tile(np.r_[np.ones(20), np.zeros(20)], 4).astype(int)
    folds = np.repeat(np.arange(4), 40)
    rows = rng.normal(size=(4, len(labels)))  # noise on every training side
    for k in range(4):
        rows[k, folds == k] = labels[folds == k] + 0.1 * rng.random(40)  # separable on its own fold
    out = lfw_ten_fold(rows, labels, folds)
    assert out["auc"] == pytest.approx(1.0) and out["eer"] < 0.01
    with pytest.raises(ValueError, match="scored folds, n_pairs"):
        lfw_ten_fold(rows[:3], labels, folds)


def test_identify_ranks_identities_by_their_best_gallery_image():
    from siamese_lessons.evaluation import identify

    # Gallery on a line: ann at 0 and 10, bob at 3, cat at 7. Probe at 9: ann 1 (via 10), cat 2, bob 6.
    gallery = np.array([[0.0], [10.0], [3.0], [7.0]])
    labels = np.array(["ann", "ann", "bob", "cat"])
    top, scores = identify(gallery, labels, np.array([[9.0], [3.5]]), k=3)
    np.testing.assert_array_equal(top, [["ann", "cat", "bob"], ["bob", "ann", "cat"]])
    np.testing.assert_allclose(scores, [[-1.0, -2.0, -6.0], [-0.5, -3.5, -3.5]])
    with pytest.raises(ValueError, match="k must be"):
        identify(gallery, labels, np.array([[1.0]]), k=4)
    with pytest.raises(ValueError, match="NaN"):
        identify(gallery, labels, np.array([[np.nan]]))
    with pytest.raises(ValueError, match="one d"):
        identify(gallery, labels, np.array([[1.0, 2.0]]))


def test_open_set_identification_hand_case():
    from siamese_lessons.evaluation import open_set_identification

    top = np.array([["a", "b"], ["b", "a"], ["a", "b"], ["b", "a"]])
    scores = np.array([[-1.0, -2.0], [-3.0, -4.0], [-0.5, -5.0], [-2.5, -3.0]])
    truth = np.array(["a", "a", "x", "y"])  # two enrolled probes, two strangers
    out = open_set_identification(top, scores, truth, enrolled=["a", "b"], threshold=-2.0)
    # Probe 0: right and accepted; probe 1: wrong at rank 1, right at rank 2, rejected (-3 < -2).
    assert out["rank1"] == 0.5 and out["recall_at_k"] == {1: 0.5, 2: 1.0} and out["dir"] == 0.5
    # Strangers: probe 2 accepted (-0.5 >= -2) as "a", probe 3 rejected.
    assert out["far"] == 0.5 and (out["n_known"], out["n_unknown"]) == (2, 2)
    with pytest.raises(ValueError, match="enrolled"):
        open_set_identification(top, scores, truth, enrolled=["z"], threshold=0.0)
    with pytest.raises(ValueError, match="finite"):
        open_set_identification(top, scores, truth, enrolled=["a"], threshold=np.nan)


def test_describe_margins_says_beats_only_above_one_standard_error():
    import pandas as pd

    from siamese_lessons.evaluation import describe_margins

    rows = pd.DataFrame([
        {"model": "m", "versus": "b", "margin": 0.03, "standard error": 0.01, "margin / SE": 3.0},
        {"model": "m", "versus": "c", "margin": 0.01, "standard error": 0.01, "margin / SE": 1.0}])
    lines = describe_margins(rows, what="View 2 accuracy")
    assert lines == ["m beats b by more than a standard error: +0.030 View 2 accuracy "
                     "(paired SE 0.010, +3.0 SE)",
                     "m does NOT beat c by more than a standard error: +0.010 View 2 accuracy "
                     "(paired SE 0.010, +1.0 SE)"]
