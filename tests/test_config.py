"""Tests of siamese_lessons.config: the one training-configuration type."""

import dataclasses
from typing import ClassVar

import pytest

from siamese_lessons.config import TrainConfig, check_pk_batch, check_positive


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Stepped(TrainConfig):
    counts: ClassVar[str] = "steps"

    steps: int = 12
    width: int = 1


def test_passes_and_steps_count_the_length():
    passes = TrainConfig(batch_size=32, learning_rate=1e-3, epochs=5)
    assert passes.steps is None and passes.steps_per_epoch is None and passes.epochs == 5
    stepped = _Stepped(batch_size=8, learning_rate=0.1, epochs=3)
    assert stepped.steps == 12 and stepped.steps_per_epoch == 4   # 12 steps in 3 epochs of 4
    assert _Stepped(batch_size=8, learning_rate=0.1).steps_per_epoch == 12


def test_fields_are_keyword_only_and_frozen():
    with pytest.raises(TypeError):
        TrainConfig(32, 1e-3)
    config = TrainConfig(batch_size=32, learning_rate=1e-3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.batch_size = 64
    names = [f.name for f in dataclasses.fields(_Stepped)]
    assert names == ["batch_size", "learning_rate", "epochs", "steps", "width"]


@pytest.mark.parametrize("changes, message", [
    ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
    ({"batch_size": 2.5}, "batch_size must be a positive integer"),
    ({"batch_size": True}, "batch_size must be a positive integer"),
    ({"epochs": -1}, "epochs must be a positive integer, got -1"),
    ({"learning_rate": 0.0}, "learning_rate must be a positive finite number"),
    ({"learning_rate": float("inf")}, "learning_rate must be a positive finite number"),
    ({"learning_rate": float("nan")}, "learning_rate must be a positive finite number"),
    ({"steps": 10}, "TrainConfig trains by passes over its data"),
])
def test_bad_values_are_named(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{"batch_size": 4, "learning_rate": 1e-3, **changes})


def test_a_stepped_run_needs_whole_epochs_of_steps():
    with pytest.raises(ValueError, match="_Stepped counts optimizer steps: give steps"):
        _Stepped(batch_size=8, learning_rate=0.1, steps=None)
    with pytest.raises(ValueError, match=r"steps \(12\) must be a multiple of epochs \(5\)"):
        _Stepped(batch_size=8, learning_rate=0.1, epochs=5)
    with pytest.raises(ValueError, match="steps must be a positive integer, got 0"):
        _Stepped(batch_size=8, learning_rate=0.1, steps=0)


def test_check_positive_names_the_first_bad_field():
    config = _Stepped(batch_size=8, learning_rate=0.1)
    check_positive(config, "batch_size", "width")
    with pytest.raises(ValueError, match="width must be a positive integer, got 0"):
        check_positive(dataclasses.replace(config, width=0), "batch_size", "width")


def test_check_pk_batch_gives_the_people_of_a_p_by_k_batch():
    assert check_pk_batch(64, 4) == 16 and check_pk_batch(4, 2) == 2
    for batch_size, k in ((66, 4), (64, 1), (64, 0), (4, 4), (2, 2)):  # not P x k, k < 2, P < 2
        with pytest.raises(ValueError, match=f"batch_size = P x k .*got batch_size={batch_size}, k={k}"):
            check_pk_batch(batch_size, k)
