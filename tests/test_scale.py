"""scale: the training configuration, its triplet miner, the learning check and the untrained twin."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from siamese_lessons.scale import MINING, ScaleConfig, learning_check, untrained_model

from .conftest import write_image


def test_the_config_is_a_train_config_counting_steps_in_one_epoch():
    from siamese_lessons.config import TrainConfig

    config = ScaleConfig(steps=30)
    assert isinstance(config, TrainConfig) and (config.epochs, config.steps_per_epoch) == (1, 30)
    assert (config.batch_size, config.learning_rate) == (64, 1e-3)
    with pytest.raises(ValueError, match="epochs must be 1, got 3"):
        ScaleConfig(steps=30, epochs=3)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        ScaleConfig(batch_size=0)
    with pytest.raises(ValueError, match="learning_rate"):
        ScaleConfig(learning_rate=-1.0)
    with pytest.raises(TypeError):
        ScaleConfig("triplet")  # keyword-only, as every TrainConfig


def test_mining_is_validated_and_defaults_to_facenet_semi_hard():
    from siamese_lessons.losses import SemiHardTripletLoss

    assert ScaleConfig().mining == "semi_hard" and set(MINING) == {"semi_hard", "batch_all", "batch_hard"}
    with pytest.raises(ValueError, match="mining"):
        ScaleConfig(mining="hardest")
    from siamese_lessons.losses import MINERS, mined_triplet_loss

    assert isinstance(mined_triplet_loss("semi_hard"), SemiHardTripletLoss)
    assert set(MINING) == set(MINERS)  # the command line's list is the library's


def test_untrained_model_is_the_seeded_starting_point():
    config = ScaleConfig(tower_kwargs={"filters": (4,), "convs_per_block": 1}, image_size=(16, 16),
                         channels=1, embedding_dim=4, batch_size=8, k=2)
    a, b = untrained_model(config), untrained_model(config)
    assert a.output_shape == (None, 4)
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    with pytest.raises(ValueError, match="triplet"):
        learning_check(None, ScaleConfig(loss="binary"))


def test_run_folder_data_is_reused_only_when_made_from_the_same_listing(tmp_path):
    from siamese_lessons.data import ImageList
    from siamese_lessons.scale import prepare_data

    def listing(n_ids):
        paths = np.asarray([f"p{i // 3}/{i}.png" for i in range(3 * n_ids)])
        for p in paths:
            write_image(tmp_path / p, np.full((4, 4), 9))
        return ImageList(root=str(tmp_path), paths=paths, labels=np.repeat(np.arange(n_ids), 3))

    config = ScaleConfig(loss="contrastive", pairs_per_kind=6)
    target = prepare_data(listing(5), tmp_path, config)
    made = (target / "positive_pairs_path.txt").stat().st_mtime_ns
    assert prepare_data(listing(5), tmp_path, config) == target
    assert (target / "positive_pairs_path.txt").stat().st_mtime_ns == made  # same listing: reused
    # Another list (the old code trained on the old pair files while run.json named the new list).
    with pytest.warns(RuntimeWarning, match="listing_sha256"):
        prepare_data(listing(6), tmp_path, config)
    written = "".join((target / name).read_text()
                      for name in ("positive_pairs_path.txt", "negative_pairs_path.txt"))
    assert "p5/" in written
    # A leftover from a run that died while writing (an empty file, no record) is rebuilt, not trusted.
    for f in target.iterdir():
        f.write_text("")
    (target / "made_from.json").unlink()
    with pytest.warns(RuntimeWarning, match="no made_from.json"):
        prepare_data(listing(6), tmp_path, config)
    assert (target / "positive_pairs_path.txt").read_text().count("\n") == 6
    assert not (tmp_path / "pairs.partial").exists()


def test_prepare_data_writes_the_shards_a_triplet_run_reads(tmp_path):
    from siamese_lessons.data import ImageList
    from siamese_lessons.scale import prepare_data
    from siamese_lessons.streaming import read_shard_set

    paths = np.asarray([f"p{i // 3}/{i}.png" for i in range(12)])  # 4 people of 3 images
    for i, p in enumerate(paths):
        write_image(tmp_path / p, np.full((6, 6), 20 * i))
    images = ImageList(root=str(tmp_path), paths=paths, labels=np.repeat(np.arange(4), 3))
    config = ScaleConfig(loss="triplet", image_size=(4, 4), channels=1, k=2, num_shards=2)
    target = prepare_data(images, tmp_path / "run", config)
    assert target == tmp_path / "run" / "shards"
    shards = read_shard_set(target)
    assert (shards.identities, shards.images, len(shards.files)) == (4, 12, 2)
    made = json.loads((target / "made_from.json").read_text())
    assert [made[k] for k in ("kind", "image_size", "channels", "num_shards")] == ["shards", [4, 4], 1, 2]
    stamp = [Path(f).stat().st_mtime_ns for f in shards.paths]
    assert prepare_data(images, tmp_path / "run", config) == target  # what train() calls: reused
    assert [Path(f).stat().st_mtime_ns for f in shards.paths] == stamp
    with pytest.warns(RuntimeWarning, match="image_size"):
        prepare_data(images, tmp_path / "run", dataclasses.replace(config, image_size=(2, 2)))


def test_pair_losses_name_a_corrupt_or_missing_image_before_training(tmp_path):
    from siamese_lessons.data import ImageList
    from siamese_lessons.errors import CorruptImageError
    from siamese_lessons.scale import prepare_data

    paths = np.asarray([f"p{i // 2}/{i}.png" for i in range(6)])
    for p in paths:
        write_image(tmp_path / p, np.full((4, 4), 9))
    (tmp_path / paths[3]).write_bytes(b"\xff\xd8 not an image")
    images = ImageList(root=str(tmp_path), paths=paths, labels=np.repeat(np.arange(3), 2))
    config = ScaleConfig(loss="binary", pairs_per_kind=2)
    with pytest.raises(CorruptImageError, match=str(paths[3])):
        prepare_data(images, tmp_path / "run", config)
    (tmp_path / paths[3]).unlink()
    with pytest.raises(FileNotFoundError, match=str(paths[3])):
        prepare_data(images, tmp_path / "run", config)
    assert not (tmp_path / "run" / "pairs").exists()  # nothing a rerun could trust
