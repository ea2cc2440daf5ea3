"""Chapter 6's course module: the View 2 methods, a reduced run on some folds, and that
the live run's full-profile configuration learns."""

import dataclasses

import numpy as np
import pytest

from siamese_lessons.course import ch06_protocol as ch06
from tests.test_baselines import _faces, _fold_pairs


def test_run_view2_scores_baselines_and_a_learned_model_with_the_protocol():
    people = _faces(n_people=40, per=4, side=20)  # >= 100 training images for 100 eigenfaces
    view2 = _fold_pairs(people)
    budget = dataclasses.replace(ch06.SIZES["quick"].budget, pk=(4, 2), steps_per_epoch=2)
    out = ch06.run_view2(view2, people, ["eigenfaces", "lbp", "triplet"], budget, progress=False)
    assert list(out) == ["eigenfaces", "lbp", "triplet"]
    for r in out.values():
        assert len(r["fold_accuracies"]) == 4 and r["seconds"] > 0 and "scores" not in r
        assert r["accuracy_mean"] == pytest.approx(np.mean(r["fold_accuracies"]))
        assert r["correct"].shape == (16,) and r["correct"].mean() == pytest.approx(r["accuracy_mean"])
    # The trained network reports each fold's last training loss (the record keeps them); baselines do not.
    losses = out["triplet"]["final_losses"]
    assert len(losses) == 4 and all(np.isfinite(losses)) and "final_losses" not in out["lbp"]
    # Identities are a fixed pattern plus small noise: eigenfaces separate them perfectly.
    assert out["eigenfaces"]["accuracy_mean"] == 1.0 and out["eigenfaces"]["auc"] == pytest.approx(1.0)


def test_a_reduced_run_trains_only_the_folds_it_scores():
    people = _faces(n_people=8, per=3)
    view2 = _fold_pairs(people)
    trained = []
    fit, score = ch06.view2_method("lbp", ch06.SIZES["quick"].budget)

    def counting_fit(train):
        trained.append(sorted(set(train.identities)))
        fit(train)
        return train  # any model: LBP scores ignore it

    from siamese_lessons.evaluation import view2_protocol

    out = view2_protocol(view2, people, counting_fit, score, folds=[2, 0], progress=False)
    # Two models, each without its fold's two people; fold 2 first, as asked.
    assert len(trained) == 2 and "p4" not in trained[0] and "p0" not in trained[1]
    assert out["folds"] == [2, 0] and len(out["fold_accuracies"]) == 2
    np.testing.assert_array_equal(out["pairs"], np.r_[8:12, 0:4])
    with pytest.raises(ValueError, match="fold ids"):
        view2_protocol(view2, people, counting_fit, score, folds=[7, 0], progress=False)


def test_untrained_method_is_the_contrastive_models_starting_point():
    import keras

    from siamese_lessons.course.faces import face_embedder

    people = _faces(n_people=8, per=3)
    fit, _ = ch06.view2_method("untrained", ch06.SIZES["quick"].budget, seed=3)
    keras.utils.set_random_seed(99)
    twin = fit(people)
    fresh = face_embedder((16, 16, 1), seed=3)
    for a, b in zip(twin.get_weights(), fresh.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_view2_method_names_and_sizes_are_checked():
    with pytest.raises(ValueError, match="triplet"):
        ch06.view2_method("siamese", ch06.SIZES["quick"].budget)
    for name in ch06.VIEW2_MODELS:
        fit, score = ch06.view2_method(name, ch06.SIZES["quick"].budget)
        assert callable(fit) and callable(score)
    with pytest.raises(ValueError, match="arcface"):
        dataclasses.replace(ch06.SIZES["quick"], live=("lbp", "arcface"))
    with pytest.raises(ValueError, match="pk"):
        dataclasses.replace(ch06.SIZES["quick"].budget, pk=(4,))
    with pytest.raises(ValueError, match="P x K"):  # chapter 5's check, at construction
        dataclasses.replace(ch06.SIZES["quick"].budget, pk=(4, 1))


def test_the_budget_is_chapter_4_and_5_runs():
    from siamese_lessons.course.ch04_contrastive import ContrastiveRun

    budget = ch06.SIZES["quick"].budget  # 6,000 pairs x 2 epochs of 64; 16 x 4 triplet batches, 60 x 1
    assert budget.contrastive == ContrastiveRun(pairs=6_000, epochs=2, batch_size=64)
    triplet = budget.triplet
    assert (triplet.pk, triplet.batch_size, triplet.steps, triplet.epochs) == ((16, 4), 64, 60, 1)
    full = ch06.SIZES["full"].budget.triplet  # 32 x 4, 300 steps per epoch x 6
    assert (full.pk, full.steps, full.steps_per_epoch) == ((32, 4), 1_800, 300)
    with pytest.raises(ValueError, match="resize"):
        dataclasses.replace(ch06.SIZES["quick"], resize=0.0)
    # Quick: chapter 8's 31x23 faces (0.25 of the 125x94 crop); full: the whole crop.
    assert ch06.sizes("quick").resize == 0.25 and ch06.sizes("full").resize is None
    assert ch06.sizes("full").folds is None and len(ch06.sizes("quick").folds) >= 2


def test_full_profile_live_configuration_is_chapter_4s_and_its_learning_check_trains_it(monkeypatch):
    """The live contrastive model learns as chapter 4's full configuration does (embedder,
    margin, learning rate: what a slice check trains), so chapter 4's learning test covers
    it; if they ever differ, this fails and chapter 6 needs a learning test of its own."""
    from siamese_lessons.course import ch04_contrastive as ch04

    calls = []
    monkeypatch.setattr(ch06, "contrastive_learning_check", lambda people, run, **kw: calls.append((run, kw)))
    ch06.learning_check("people", ch06.SIZES["full"], steps=9)
    (run, kwargs), = calls
    full = ch04.SIZES["full"]
    assert (run.embedding_dim, run.margin, run.learning_rate) == (full.embedding_dim, full.margin,
                                                                   full.learning_rate)
    assert kwargs["steps"] == 9 and run.pairs == ch06.SIZES["full"].budget.pairs
