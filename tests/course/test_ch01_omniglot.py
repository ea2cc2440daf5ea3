"""Chapter 1's course module: its sizes, its pieces, and that its configurations learn."""

import dataclasses

import numpy as np
import pytest

from siamese_lessons.course import ch01_omniglot as ch01
from siamese_lessons.data import IdentitySet, load_omniglot, load_omniglot_one_shot_runs
from siamese_lessons.evaluation import nearest_neighbour_one_shot


@pytest.fixture(scope="module")
def background(omniglot_home):
    return load_omniglot("background_small")


def _learns(frame) -> bool:
    """The slice is learned: cross-entropy at most half of where it started, slice accuracy >= 0.9."""
    first, last = frame.iloc[0], frame.iloc[-1]
    return last["data_loss"] <= 0.5 * first["data_loss"] and last["accuracy"] >= 0.9


@pytest.mark.data
def test_full_profile_configuration_learns_a_slice_and_the_papers_initialisation_does_not(background):
    full = ch01.SIZES["full"].siamese
    assert full.tower == "koch" and full.tower_kwargs["width"] == 1.0  # Koch's tower at the paper's size
    # Measured at the two ends only (what _learns reads): the chapter draws the whole curve.
    fixed = ch01.learning_check(background, full, every=10)
    assert _learns(fixed), fixed
    # The paper's N(0, 0.2) dense layer: the chapter's lesson, and what shipped before the fix.
    paper = dataclasses.replace(full, tower_kwargs={**full.tower_kwargs, "dense_stddev": 0.2})
    stuck = ch01.learning_check(background, paper, every=10)
    assert not _learns(stuck), stuck
    assert stuck["penalty"].iloc[0] > 10 * stuck["data_loss"].iloc[0]  # the loss sits on the L2 term


@pytest.mark.data
def test_quick_profile_configuration_learns_a_slice(background):
    # Batch norm predicts with moving averages, which need more (cheap) steps to settle.
    assert _learns(ch01.learning_check(background, ch01.SIZES["quick"].siamese, steps=100, every=25))


def test_sizes_by_profile_and_validation():
    assert ch01.sizes("quick") is ch01.SIZES["quick"] and ch01.sizes("full") is ch01.SIZES["full"]
    assert ch01.SIZES["full"].siamese.tower_kwargs["dense_stddev"] == 0.01
    with pytest.raises(ValueError, match="side"):
        dataclasses.replace(ch01.SIZES["quick"].siamese, side=200)
    with pytest.raises(ValueError, match="pairs"):
        dataclasses.replace(ch01.SIZES["quick"].siamese, pairs=0)
    # Both runs are TrainConfigs that count passes over their data.
    with pytest.raises(ValueError, match="SiameseRun trains by passes"):
        dataclasses.replace(ch01.SIZES["quick"].siamese, steps=100)
    with pytest.raises(ValueError, match="learning_rate"):
        dataclasses.replace(ch01.SIZES["quick"].siamese, learning_rate=0)
    embedding = ch01.SIZES["quick"].embedding
    assert (embedding.batch_size, embedding.learning_rate, embedding.epochs) == (128, 3e-3, 1)
    with pytest.raises(ValueError, match="filters"):
        dataclasses.replace(embedding, filters=(64, 0))
    with pytest.raises(ValueError, match="dim must be a positive integer"):
        dataclasses.replace(embedding, dim=0)


def test_build_siamese_twice_gives_the_untrained_twin():
    run = dataclasses.replace(ch01.SIZES["quick"].siamese, side=21,
                              tower_kwargs={"filters": (4,), "convs_per_block": 1, "embedding_dim": 4})
    a, b = ch01.build_siamese(run, seed=3), ch01.build_siamese(run, seed=3)
    assert a.input_shape == [(None, 105, 105, 1), (None, 105, 105, 1)]
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)


def test_rotation_classes_turn_each_character_into_four():
    image = np.zeros((1, 3, 3), np.uint8)
    image[0, 0, 2] = 255  # top right
    data = IdentitySet(images=image, labels=[0], class_names=["A/c1"], groups={"alphabet": np.array(["A"])})
    rot = ch01.rotation_classes(data)
    assert rot.labels.tolist() == [0, 1, 2, 3] and rot.class_names.tolist()[1] == "A/c1 rot90"
    # np.rot90 turns counter-clockwise: top right -> top left -> bottom left -> bottom right.
    assert [tuple(np.argwhere(im)[0]) for im in rot.images] == [(0, 2), (0, 0), (2, 0), (2, 2)]
    assert rot.groups["alphabet"].tolist() == ["A"] * 4


@pytest.mark.data
def test_score_one_shot_pixels_matches_the_nearest_neighbour_baseline(omniglot_home):
    runs = load_omniglot_one_shot_runs()
    credit = ch01.score_one_shot(runs, {"nn": "pixels"})["nn"]
    assert credit.mean() == pytest.approx(nearest_neighbour_one_shot(runs)[0])
    # An independent count: the smallest pixel distance, by a loop over trials.
    right = 0
    for q, cands, answer in zip(runs.queries[:40], runs.candidates[:40], runs.answers[:40], strict=True):
        d = [np.linalg.norm(runs.images[q].astype(float) - runs.images[c].astype(float)) for c in cands]
        right += int(np.argmin(d) == answer)
    assert credit[:40].sum() == right
    with pytest.raises(ValueError, match="pixels"):
        ch01.score_one_shot(runs, {"x": "hog"})


def test_full_profile_distorts_its_training_images_inside_the_model():
    from siamese_lessons.augmentation import RandomAffine

    run = ch01.SIZES["full"]
    assert run.siamese.augmentation is not None
    model = ch01.build_siamese(dataclasses.replace(run.siamese, tower_kwargs={**run.siamese.tower_kwargs,
                                                                              "width": 0.05}))
    tower = model.get_layer("tower")
    layers = [layer for layer in tower.layers if isinstance(layer, RandomAffine)]
    assert len(layers) == 1 and layers[0].augmentation == run.siamese.augmentation
    assert layers[0].fill_value == 255.0  # white paper shifted in (pixels are 0-255 there), not black ink
    quick = ch01.build_siamese(ch01.SIZES["quick"].siamese)
    assert not any(isinstance(layer, RandomAffine) for layer in quick.get_layer("tower").layers)
