import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from siamese_lessons.evaluation import best_threshold, lfw_ten_fold, recall_at_k, threshold_at_far


def test_threshold_at_far_hand_cases():
    impostors = np.arange(1000) / 1000.0  # 0.000 ... 0.999
    t = threshold_at_far(impostors, 1e-3)  # at most 1 of 1000 accepted
    assert np.sum(impostors >= t) == 1 and t == pytest.approx(0.9985)
    t0 = threshold_at_far(impostors, 0.0)
    assert np.sum(impostors >= t0) == 0
    assert np.sum(impostors >= threshold_at_far(impostors, 0.01)) == 10
    with pytest.raises(ValueError):
        threshold_at_far([], 0.1)


def _synthetic(seed=0, n_folds=10, per=30, sep=1.5):
    rng = np.random.default_rng(seed)
    folds = np.repeat(np.arange(n_folds), 2 * per)
    labels = np.tile(np.r_[np.ones(per), np.zeros(per)], n_folds).astype(int)
    scores = rng.normal(size=len(labels)) + sep * labels
    return scores, labels, folds


def test_ten_fold_accuracy_matches_a_loop_reference():
    scores, labels, folds = _synthetic()
    out = lfw_ten_fold(scores, labels, folds)
    ref = []
    for k in range(10):
        t, _ = best_threshold(scores[folds != k], labels[folds != k])
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


def test_check_label_direction_catches_inverted_labels():
    from siamese_lessons.evaluation import check_label_direction

    scores, labels = np.array([0.9, 0.8, 0.2, 0.1]), np.array([1, 1, 0, 0])
    assert check_label_direction(scores, labels) == 1.0
    with pytest.raises(ValueError, match="label convention"):
        check_label_direction(scores, 1 - labels)
    with pytest.raises(ValueError, match="minus a distance"):
        check_label_direction(-scores, labels, what="distances")
