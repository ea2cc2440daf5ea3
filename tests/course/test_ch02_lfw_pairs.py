"""Chapter 2's course module: sizes, the untrained twin, baselines, and that its best
configuration learns."""

import dataclasses

import numpy as np
import pytest

from siamese_lessons.course import ch02_lfw_pairs as ch02
from siamese_lessons.course.ch02_lfw_pairs import LFW_STEPS


@pytest.mark.data
def test_full_profile_configuration_of_the_chosen_rung_learns_a_slice(lfw_data_home):
    more_pairs = LFW_STEPS[-1]
    assert ch02.step_image_shape(more_pairs, ch02.SIZES["full"]) == (125, 125, 1)  # half of 250x250
    # Measured at the two ends only (what is asserted). At 25 steps the slice's cross-entropy was
    # 0.21 (from 0.72) and its accuracy 1.00 on a 2-core EPYC; at 20, 0.28 and 0.95.
    frame = ch02.learning_check(more_pairs, ch02.SIZES["full"], steps=25, every=25)
    first, last = frame.iloc[0], frame.iloc[-1]
    assert last["data_loss"] <= 0.5 * first["data_loss"] and last["accuracy"] >= 0.9, frame


def test_sizes_and_shapes():
    assert ch02.sizes("full").resize is None and ch02.sizes("full").epochs == 30
    assert ch02.step_image_shape(LFW_STEPS[0], ch02.SIZES["quick"]) == (62, 62, 1)  # int(0.25 * 250)
    assert ch02.step_image_shape(LFW_STEPS[-1], ch02.SIZES["quick"]) == (31, 31, 1)
    assert ch02.LFW_SEED_SPLIT == (2145, 55)  # the seed's split; the ladder holds out more
    assert ch02.SIZES["quick"].validation_pairs == ch02.SIZES["full"].validation_pairs == 400
    with pytest.raises(ValueError, match="resize"):
        dataclasses.replace(ch02.SIZES["quick"], resize=1.5)


def test_untrained_twin_has_the_initial_weights_of_the_trained_run():
    step = dataclasses.replace(LFW_STEPS[-1], tower_kwargs={"filters": (4,), "convs_per_block": 1,
                                                            "dropout": 0.0, "embedding_dim": 4})
    run = dataclasses.replace(ch02.SIZES["quick"], resize=0.1)
    a, b = ch02.untrained_twin(step, run, seed=5), ch02.untrained_twin(step, run, seed=5)
    assert a.input_shape[0] == (None, 12, 12, 1)  # int(0.05 * 250)
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)


def test_summarize_lfw_record_compares_like_with_like():
    from siamese_lessons.course.ch02_lfw_pairs import summarize_lfw_record

    step = {"image_side": 62, "best_epoch": 2, "epochs_run": 3, "test_accuracy": 0.6, "test_auc": 0.65,
            "train_seconds": 10.0,
            "history": {"accuracy": [0.5, 0.7, 0.9], "test_accuracy": [0.55, 0.58, 0.62]}}
    s = summarize_lfw_record(step)
    assert s["test acc. @0.5, kept epoch"] == 0.58 and s["test acc. @0.5, best test epoch"] == 0.62
    assert s["train accuracy (kept epoch)"] == 0.7 and s["test acc., validation threshold"] == 0.6


@pytest.mark.data
def test_sampled_pairs_rung_trains_on_nobody_in_a_validation_pair(lfw_data_home):
    more_pairs = LFW_STEPS[-1]
    # At the quick profile's resize, whose decoded images chapter 2 caches.
    fit_set, tr, va, test, _ = ch02.lfw_step_data(more_pairs, resize=0.25, train_pairs=None, test_pairs=None,
                                                  sampled_pairs=2000, validation_pairs=400)
    assert len(tr) == 2000 and len(va) == 400
    train_people = set(fit_set.identities[fit_set.pairs[tr].ravel()].tolist())
    val_people = set(fit_set.identities[fit_set.pairs[va].ravel()].tolist())
    test_people = set(test.identities[test.pairs.ravel()].tolist())
    assert len(val_people) > 300 and not train_people & val_people and not train_people & test_people
    # The validation pairs are the official ones the seed's rung holds out, image for image.
    official, _, official_va, _, _ = ch02.lfw_view1(0.125, train_pairs=None, test_pairs=None,
                                                    validation_pairs=400)
    np.testing.assert_array_equal(fit_set.paths[fit_set.pairs[va]],
                                  official.paths[official.pairs[official_va]])
