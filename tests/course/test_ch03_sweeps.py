"""Chapter 3's course module: configurations, sizes, and that the swept model learns."""

import dataclasses

import pytest

from siamese_lessons.augmentation import FACE_AUGMENTATION
from siamese_lessons.course import ch03_sweeps as ch03
from siamese_lessons.course.ch02_lfw_pairs import LFW_STEPS


def test_configure_applies_each_setting_to_chapter_2s_last_rung():
    step, batch = ch03.configure({"learning_rate": 3e-4, "batch_size": 32, "augmentation": False,
                                  "width": 0.5})
    assert batch == 32 and step.learning_rate == 3e-4 and step.augmentation is None
    assert step.tower_kwargs["filters"] == (16, 32, 64, 64)  # half of 32-64-128-128
    assert step.sampled_pairs and step.resolution_factor == LFW_STEPS[-1].resolution_factor
    wide, _ = ch03.configure({**ch03.SIZES["quick"].base, "width": 0.01})
    assert wide.tower_kwargs["filters"] == (1, 1, 1, 1) and wide.augmentation == FACE_AUGMENTATION
    with pytest.raises(ValueError, match="width"):
        ch03.configure({**ch03.SIZES["quick"].base, "width": 0})
    with pytest.raises(ValueError, match="lacks"):
        ch03.configure({"learning_rate": 1e-3})


def test_sizes_are_validated():
    quick = ch03.sizes("quick")
    assert quick.sweep.validation_pairs == quick.final.validation_pairs == 400
    assert ch03.sizes("full").max_seconds is None and len(ch03.sizes("full").seeds) == 3
    with pytest.raises(ValueError, match="grid names unknown"):
        dataclasses.replace(quick, grid={"momentum": (0.9,)})
    with pytest.raises(ValueError, match="base must set"):
        dataclasses.replace(quick, base={"learning_rate": 1e-3})


def test_full_profile_base_configuration_is_chapter_2s_chosen_rung(monkeypatch):
    """Chapter 3's full base configuration is chapter 2's "more pairs" rung at chapter 2's
    full sizes, field for field, so chapter 2's learning test (which trains it on a slice)
    covers it; if the two ever differ, this fails and chapter 3 needs a learning test of its own."""
    from siamese_lessons.course import ch02_lfw_pairs as ch02

    step, batch = ch03.configure(ch03.SIZES["full"].base)
    rung = LFW_STEPS[-1]
    assert dataclasses.replace(step, name=rung.name, what=rung.what) == rung
    assert batch == ch02.SIZES["full"].batch_size and ch03.SIZES["full"].final == ch02.SIZES["full"]
    # ch03.learning_check trains exactly that rung at the final sizes.
    calls = []
    monkeypatch.setattr(ch02, "learning_check", lambda *args, **kwargs: calls.append((args, kwargs)))
    ch03.learning_check(ch03.SIZES["full"], steps=7)
    (args, kwargs), = calls
    assert args == (step, ch02.SIZES["full"]) and kwargs["steps"] == 7
