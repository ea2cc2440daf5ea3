"""Chapter 4's course module: sizes, and that its full-profile configuration learns."""

import dataclasses

import pytest

from siamese_lessons.course import ch04_contrastive as ch04
from siamese_lessons.course.faces import lfw_embedding_data


@pytest.mark.data
def test_full_profile_configuration_learns_a_slice(lfw_data_home):
    people, _ = lfw_embedding_data(0.5)
    frame = ch04.learning_check(people, ch04.SIZES["full"], steps=30)
    first, last = frame.iloc[0], frame.iloc[-1]
    assert last["data_loss"] <= 0.5 * first["data_loss"], frame
    assert last["auc"] >= 0.95 > first["auc"], frame


def test_sizes_by_profile_and_validation():
    assert ch04.sizes("quick") is ch04.SIZES["quick"]
    assert ch04.SIZES["full"].pairs > ch04.SIZES["quick"].pairs
    with pytest.raises(ValueError, match="margin"):
        dataclasses.replace(ch04.SIZES["quick"], margin=2.5)
    with pytest.raises(ValueError, match="pairs"):
        dataclasses.replace(ch04.SIZES["quick"], pairs=0)


@pytest.mark.data
def test_train_contrastive_distorts_its_training_images_as_asked(lfw_data_home):
    import numpy as np

    from siamese_lessons.augmentation import FLIP

    people, _ = lfw_embedding_data(0.25)
    mirrored = dataclasses.replace(FLIP, p=1.0)  # every image flipped: training must see other pixels

    def weights(augmentation):
        embedder, _ = ch04.train_contrastive(people, n_pairs=64, epochs=1, batch_size=32, embedding_dim=8,
                                             augmentation=augmentation, verbose=0)
        return np.concatenate([w.ravel() for w in embedder.get_weights()])

    plain = weights(None)
    np.testing.assert_allclose(weights(None), plain, rtol=0, atol=1e-6)  # deterministic: a fair comparison
    assert np.abs(weights(mirrored) - plain).max() > 1e-4
    assert ch04.SIZES["quick"].augmentation == ch04.SIZES["full"].augmentation == FLIP


def test_inversion_run_keeps_everything_but_a_third_of_the_pairs():
    short = ch04.inversion_run(ch04.SIZES["quick"])
    assert short.pairs == 2_000 and ch04.SIZES["quick"].pairs == 6_000  # 6,000 // 3
    assert dataclasses.replace(short, pairs=6_000) == ch04.SIZES["quick"]
    assert ch04.inversion_run(dataclasses.replace(ch04.SIZES["quick"], pairs=2)).pairs == 1
