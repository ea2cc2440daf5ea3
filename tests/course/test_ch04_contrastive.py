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
    assert ch04.SIZES["full"].augmentation == FLIP


def _record_choice(record: str) -> tuple[dict, dict | None]:
    """A committed augmentation record and its winner's augmentation, after checking that the
    winner is the highest mean validation AUC and that DevTest was not scored."""
    import json
    from pathlib import Path

    import numpy as np

    result = json.loads((Path(__file__).parents[2] / "benchmarks/results" / f"{record}.json").read_text())
    means = {name: np.mean(c["validation_auc"]) for name, c in result["candidates"].items()}
    assert result["best"] == max(means, key=means.get) and "test_auc" not in str(result)  # DevTest unscored
    return result, result["candidates"][result["best"]]["augmentation"]


def test_the_quick_runs_augmentation_is_its_records_choice_on_validation():
    result, chosen = _record_choice("contrastive_augmentation")
    quick = ch04.SIZES["quick"]  # exactly the quick run: same sizes, its best candidate
    assert result["profile"] == "quick" and result["image_shape"] == [31, 23]
    # (The record predates TrainConfig's ``steps``, which a run counting passes leaves at None.)
    assert quick.steps is None
    fields = dataclasses.asdict(quick)
    assert result["run"] == {k: v for k, v in fields.items() if k not in ("augmentation", "steps")}
    assert quick.augmentation is None and chosen is None


def test_the_full_runs_flips_are_the_62x47_records_choice_on_validation():
    import json

    result, chosen = _record_choice("contrastive_augmentation_62x47")  # made before quick became 31x23
    assert result["profile"] == "reduced" and result["overrides"] == {"resize": 0.5}
    full = json.loads(json.dumps(dataclasses.asdict(ch04.SIZES["full"].augmentation)))  # tuples as lists
    assert chosen == full and chosen["flip"]


def test_inversion_run_keeps_everything_but_a_third_of_the_pairs():
    short = ch04.inversion_run(ch04.SIZES["quick"])
    assert short.pairs == 2_000 and ch04.SIZES["quick"].pairs == 6_000  # 6,000 // 3
    assert dataclasses.replace(short, pairs=6_000) == ch04.SIZES["quick"]
    assert ch04.inversion_run(dataclasses.replace(ch04.SIZES["quick"], pairs=2)).pairs == 1
