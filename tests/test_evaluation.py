"""siamese_lessons.evaluation: thresholds, ROC, one-shot credit, paired margins, the LFW protocol."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from siamese_lessons._tf import keras as _keras
from siamese_lessons.baselines import EigenfaceVerifier
from siamese_lessons.data import OneShotTrials, PairSet
from siamese_lessons.evaluation import (
    accuracy_at,
    accuracy_standard_error,
    best_threshold,
    lfw_ten_fold,
    nearest_neighbour_one_shot,
    one_shot_accuracy,
    recall_at_k,
    roc_auc,
    threshold_at_far,
    view2_protocol,
)
from siamese_lessons.models import lfw_seed_tower, siamese_pair_model
from tests.test_baselines import _faces
from tests.test_training import _toy_pairs

keras = _keras()


def test_best_threshold_hand_case_and_tie_rule():
    # sorted: 0.1 (diff) 0.35 (same) 0.4 (diff) 0.8 (same); t = 0.225 and t = 0.6 both give 3/4
    t, acc = best_threshold([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    assert acc == 0.75 and t == pytest.approx(0.225)  # ties: the smallest threshold
    assert accuracy_at([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], t) == 0.75
    t, acc = best_threshold([0.2, 0.9], [0, 1])
    assert acc == 1.0 and 0.2 < t <= 0.9
    with pytest.raises(ValueError, match="labels"):
        best_threshold([0.1], [2])
    with pytest.raises(ValueError, match="NaN"):
        accuracy_at([np.nan], [1], 0.5)


def test_best_threshold_matches_brute_force():
    rng = np.random.default_rng(3)
    s = rng.random(300).round(2)  # many ties
    y = (rng.random(300) < s).astype(int)
    t, acc = best_threshold(s, y)
    brute = max(np.mean((s >= c) == (y == 1)) for c in np.concatenate([s, [2.0]]))
    assert acc == pytest.approx(brute)
    assert accuracy_at(s, y, t) == pytest.approx(acc)


def test_roc_and_standard_error():
    fpr, tpr, _, auc = roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    assert auc == pytest.approx(0.75)  # 3 of the 4 (same, different) orderings are right
    assert fpr[0] == 0 and tpr[-1] == 1
    assert accuracy_standard_error(0.65, 100) == pytest.approx(np.sqrt(0.65 * 0.35 / 100))
    with pytest.raises(ValueError, match="both"):
        roc_auc([0.1, 0.2], [1, 1])


def test_nearest_neighbour_one_shot_hand_case():
    images = np.array([[[0]], [[10]], [[200]], [[250]], [[12]]], np.uint8)
    trials = OneShotTrials(images=images, queries=[4, 3], candidates=[[0, 1, 2], [0, 1, 2]],
                           answers=[1, 0], runs=[1, 1])
    acc, pred = nearest_neighbour_one_shot(trials)
    assert pred.tolist() == [1, 2] and acc == 0.5  # 12 is nearest 10; 250 nearest 200


def test_one_shot_accuracy_uses_the_head_scores():
    ps = _toy_pairs(8)
    model = siamese_pair_model(lfw_seed_tower((8, 8, 1), conv_blocks=1, filters=2, dense_units=4, seed=0))
    trials = OneShotTrials(images=ps.images, queries=[0, 8], candidates=[[1, 9], [1, 9]], answers=[0, 1],
                           runs=[1, 1])
    acc, pred = one_shot_accuracy(model, trials)
    direct = [model.predict([ps.images[[q, q]][..., None], ps.images[[1, 9]][..., None]],
                            verbose=0).ravel().argmax() for q in (0, 8)]
    assert pred.tolist() == direct and acc == np.mean(np.array(direct) == [0, 1])


def test_subset_accuracies_spread_matches_the_hypergeometric_formula():
    from siamese_lessons.evaluation import subset_accuracies

    correct = np.r_[np.ones(650, bool), np.zeros(350, bool)]
    acc = subset_accuracies(correct, 100, n_draws=4000, seed=0)
    # Sampling 100 of 1000 without replacement: sd = sqrt(p(1-p)/n * (N-n)/(N-1))
    expected = np.sqrt(0.65 * 0.35 / 100 * (1000 - 100) / (1000 - 1))
    assert acc.mean() == pytest.approx(0.65, abs=0.005)
    assert acc.std() == pytest.approx(expected, rel=0.08)
    with pytest.raises(ValueError):
        subset_accuracies(correct, 0)


def test_one_shot_credit_splits_ties_and_rejects_nan():
    from siamese_lessons.evaluation import one_shot_credit

    scores = np.array([[0.9, 0.1, 0.2],    # answer 0 alone on top: 1
                       [0.5, 0.5, 0.1],    # answer 1 tied with one other: 1/2
                       [0.7, 0.7, 0.7],    # all tied: 1/3
                       [0.2, 0.3, 0.1]])   # answer 0 not on top: 0
    np.testing.assert_allclose(one_shot_credit(scores, [0, 1, 2, 0]), [1, 0.5, 1 / 3, 0])
    with pytest.raises(ValueError, match="NaN"):
        one_shot_credit(np.array([[np.nan, 0.1]]), [0])
    with pytest.raises(ValueError, match="answers"):
        one_shot_credit(np.zeros((1, 2)), [2])


def test_pixel_and_embedding_one_shot_scores_against_hand_values():
    from siamese_lessons.evaluation import embedding_one_shot_scores, pixel_one_shot_scores

    images = np.zeros((3, 2, 2), np.uint8)
    images[1, 0, 0] = 3
    images[2, 0, 0], images[2, 1, 1] = 3, 4
    trials = OneShotTrials(images=images, queries=[0], candidates=[[1, 2]], answers=[0], runs=[1])
    np.testing.assert_allclose(pixel_one_shot_scores(trials), [[-3.0, -5.0]])
    # An "embedder" that flattens the pixels: cosines of (3,0,0,4)-like vectors; query 2, candidates 1, 2.
    flat = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten()])
    trials = OneShotTrials(images=images, queries=[2], candidates=[[1, 2]], answers=[1], runs=[1])
    np.testing.assert_allclose(embedding_one_shot_scores(flat, trials), [[3 / 5, 1.0]], rtol=1e-6)
    trials = OneShotTrials(images=images, queries=[0], candidates=[[1, 2]], answers=[1], runs=[1])
    with pytest.raises(ValueError, match="zero embeddings"):
        embedding_one_shot_scores(flat, trials)


def test_paired_difference_against_hand_values():
    from siamese_lessons.evaluation import paired_difference

    a, b = [1, 1, 0, 1], [0, 1, 0, 0]
    # d = (1, 0, 0, 1): mean 0.5, sd (ddof 1) = sqrt(1/3), se = sqrt(1/3) / 2
    diff, se = paired_difference(a, b)
    assert diff == 0.5 and se == pytest.approx(np.sqrt(1 / 3) / 2)
    with pytest.raises(ValueError, match="same items"):
        paired_difference([1, 0], [1])


def test_compare_verifiers_takes_each_threshold_from_validation_only():
    from siamese_lessons.evaluation import compare_verifiers

    val_labels = np.array([0, 0, 1, 1])
    test_labels = np.array([0, 1, 1, 0])
    # Method "a": validation scores put the best threshold at the midpoint 0.5 of 0.4 and 0.6.
    val = {"a": np.array([0.1, 0.4, 0.6, 0.9])}
    test = {"a": np.array([0.45, 0.55, 0.7, 0.5])}
    table, correct = compare_verifiers(val, val_labels, test, test_labels)
    assert table.loc["a", "threshold"] == pytest.approx(0.5)
    # At 0.5 (>= is "same"): 0.45 -> diff (right), 0.55 same (right), 0.7 same (right), 0.5 same (wrong).
    assert correct["a"].tolist() == [True, True, True, False]
    assert table.loc["a", "test accuracy"] == 0.75 and table.loc["a", "validation accuracy"] == 1.0
    # Changing only the test labels never moves the threshold.
    table2, _ = compare_verifiers(val, val_labels, test, 1 - test_labels)
    assert table2.loc["a", "threshold"] == table.loc["a", "threshold"]
    with pytest.raises(ValueError, match="different methods"):
        compare_verifiers(val, val_labels, {"b": test["a"]}, test_labels)


def test_margin_table_against_paired_difference_by_hand():
    from siamese_lessons.evaluation import margin_table

    frame = margin_table({"m": [1, 1, 0, 1], "b": [0, 1, 0, 0]}, [("m", "b")])
    row = frame.iloc[0]
    assert row["margin"] == 0.5 and row["standard error"] == pytest.approx(np.sqrt(1 / 3) / 2)
    assert row["margin / SE"] == pytest.approx(0.5 / (np.sqrt(1 / 3) / 2))
    with pytest.raises(ValueError, match="no results"):
        margin_table({"m": [1, 0]}, [("m", "x")])


def test_embedding_spread_against_hand_values():
    from siamese_lessons.evaluation import embedding_spread

    flat = keras.Sequential([keras.Input((1, 2, 1)), keras.layers.Flatten()])  # an embedder of raw pixels
    images = np.array([[[0, 0]], [[3, 4]], [[0, 4]]], np.uint8)
    # Distances between (0,0), (3,4), (0,4): 5, 4, 3 -> mean 4.
    assert embedding_spread(flat, images) == pytest.approx(4.0, rel=1e-5)
    with pytest.raises(ValueError, match="two images"):
        embedding_spread(flat, images[:1])


def test_paired_auc_difference_against_an_independent_bootstrap():
    from siamese_lessons.evaluation import paired_auc_difference

    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(40, int), np.zeros(40, int)]
    a = labels + rng.normal(0, 1.0, 80)
    b = labels + rng.normal(0, 2.0, 80)

    def auc(s, y):  # Mann-Whitney, by hand
        pos, neg = s[y == 1], s[y == 0]
        return np.mean((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :]))

    diff, se = paired_auc_difference(a, b, labels, n_boot=300, seed=3)
    assert diff == pytest.approx(auc(a, labels) - auc(b, labels))
    boot = np.random.default_rng(3)
    diffs = []
    while len(diffs) < 300:
        i = boot.integers(0, 80, 80)
        if labels[i].min() != labels[i].max():
            diffs.append(auc(a[i], labels[i]) - auc(b[i], labels[i]))
    assert se == pytest.approx(np.std(diffs, ddof=1), rel=1e-9)
    assert paired_auc_difference(a, a, labels)[1] == 0.0
    with pytest.raises(ValueError, match="both"):
        paired_auc_difference(a, b, np.ones(80, int))


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


def test_view2_protocol_trains_each_fold_without_its_people():
    people = _faces(n_people=8, per=3)
    ids = people.identities
    # 4 folds, each with its own two people: one same pair and one different pair per fold.
    pairs, labels, folds = [], [], []
    for f in range(4):
        a, b = 2 * f, 2 * f + 1
        ia, ib = np.flatnonzero(people.labels == a), np.flatnonzero(people.labels == b)
        pairs += [[ia[0], ia[1]], [ia[2], ib[0]]]
        labels += [1, 0]
        folds += [f, f]
    view2 = PairSet(images=people.images, pairs=pairs, labels=labels, identities=ids,
                    paths=[str(i) for i in range(len(people))], folds=folds)
    seen, models = [], []

    def fit(training):
        seen.append(set(training.identities))
        models.append(EigenfaceVerifier(n_components=4).fit(training))
        return models[-1]

    out = view2_protocol(view2, people, fit, lambda m, ps, idx: m.score_pairs(ps, idx), progress=False)
    for f, names in enumerate(seen):
        assert not names & {f"p{2 * f}", f"p{2 * f + 1}"} and len(names) == 6
    # Row k: fold k's model scoring every pair (its thresholds come from its own scores of the other folds).
    assert out["scores"].shape == (4, 8) and len(out["fold_accuracies"]) == 4
    for k, model in enumerate(models):
        np.testing.assert_allclose(out["scores"][k], model.score_pairs(view2, np.arange(8)))
    with pytest.raises(ValueError, match="folds"):
        view2_protocol(view2.subset(np.arange(8)).__class__(
            images=view2.images, pairs=view2.pairs, labels=view2.labels, identities=ids, paths=view2.paths),
            people, fit, lambda m, ps, idx: m.score_pairs(ps, idx))
