"""scale: chapter 7's configurations learn, the triplet miner is a choice, the untrained twin."""

import numpy as np
import pytest

from siamese_lessons.scale import MINING, PROFILE_CONFIGS, ScaleConfig, learning_check, untrained_model


@pytest.mark.data
def test_full_profile_configuration_learns_a_slice(lfw_data_home):
    from siamese_lessons.data import lfw_home, read_image_folder

    images = read_image_folder(lfw_home() / "lfw_funneled")
    full = PROFILE_CONFIGS["full"]
    assert full.image_size == (112, 112) and full.channels == 3 and full.mining == "semi_hard"
    frame = learning_check(images, full, steps=25)
    first, late = frame.iloc[0], frame.iloc[-3:]
    # Dropout is active while the slice is measured, so the loss wobbles: judge the last three readings.
    assert late["data_loss"].mean() <= 0.5 * first["data_loss"], frame
    assert late["auc"].min() >= 0.95 > first["auc"], frame


def test_mining_is_validated_and_defaults_to_facenet_semi_hard():
    from siamese_lessons.losses import SemiHardTripletLoss

    assert ScaleConfig().mining == "semi_hard" and set(MINING) == {"semi_hard", "batch_all", "batch_hard"}
    with pytest.raises(ValueError, match="mining"):
        ScaleConfig(mining="hardest")
    from siamese_lessons.experiments import triplet_loss_for

    assert isinstance(triplet_loss_for("semi_hard"), SemiHardTripletLoss)


def test_cli_rejects_an_unknown_miner(capsys):
    from siamese_lessons.__main__ import main

    with pytest.raises(SystemExit) as info:
        main(["train", "list.txt", "--out-dir", "x", "--steps", "1", "--mining", "hardest"])
    assert info.value.code == 2 and "--mining" in capsys.readouterr().err


def test_untrained_model_is_the_seeded_starting_point():
    config = ScaleConfig(tower_kwargs={"filters": (4,), "convs_per_block": 1}, image_size=(16, 16),
                         channels=1, embedding_dim=4, batch_size=8, k=2)
    a, b = untrained_model(config), untrained_model(config)
    assert a.output_shape == (None, 4)
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    with pytest.raises(ValueError, match="triplet"):
        learning_check(None, ScaleConfig(loss="binary"))
