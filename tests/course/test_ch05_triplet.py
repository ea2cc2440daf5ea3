"""Chapter 5's course module: sizes, and that its full-profile configuration learns."""

import dataclasses

import pytest

from siamese_lessons.course import ch05_triplet as ch05
from siamese_lessons.experiments import lfw_embedding_data


@pytest.mark.data
@pytest.mark.parametrize("mining", ["semi_hard", "batch_hard"])
def test_full_profile_configuration_learns_a_slice(lfw_data_home, mining):
    people, _ = lfw_embedding_data(0.5)
    frame = ch05.learning_check(people, ch05.SIZES["full"], mining, steps=20)
    first, last = frame.iloc[0], frame.iloc[-1]
    assert last["data_loss"] <= 0.5 * first["data_loss"], frame
    assert last["auc"] >= 0.95 > first["auc"], frame


def test_sizes_by_profile_and_validation():
    assert ch05.sizes("full") is ch05.SIZES["full"] and ch05.SIZES["quick"].steps == 200
    with pytest.raises(ValueError, match="P x K"):
        dataclasses.replace(ch05.SIZES["quick"], pk=(8, 1))
    assert set(ch05.MINERS) == {"batch_all", "batch_hard", "semi_hard"}
