import dataclasses

import pytest

import siamese_lessons.profiles as profiles
from siamese_lessons import FULL, QUICK, get_profile
from siamese_lessons.errors import ProfileError


def test_named_profiles_from_argument_and_environment(monkeypatch):
    assert get_profile("quick") is QUICK
    assert get_profile(" FULL ") is FULL
    monkeypatch.setenv("SIAMESE_LESSONS_PROFILE", "full")
    assert get_profile() is FULL
    monkeypatch.setenv("SIAMESE_LESSONS_PROFILE", "quick")
    assert get_profile() is QUICK


@pytest.mark.parametrize("gpu, expected", [(True, "full"), (False, "quick")])
def test_auto_follows_the_gpu(monkeypatch, gpu, expected):
    monkeypatch.delenv("SIAMESE_LESSONS_PROFILE", raising=False)
    monkeypatch.setattr(profiles, "_gpu_available", lambda: gpu)
    assert get_profile().name == expected
    assert get_profile("auto").name == expected


def test_auto_on_this_machine_matches_tensorflow(monkeypatch):
    import tensorflow as tf

    monkeypatch.delenv("SIAMESE_LESSONS_PROFILE", raising=False)
    has_gpu = bool(tf.config.list_physical_devices("GPU"))
    assert get_profile().name == ("full" if has_gpu else "quick")


def test_unknown_profile_lists_the_valid_ones(monkeypatch):
    with pytest.raises(ProfileError, match="'quick', 'full', 'auto'"):
        get_profile("fast")
    monkeypatch.setenv("SIAMESE_LESSONS_PROFILE", "gpu")
    with pytest.raises(ProfileError, match="SIAMESE_LESSONS_PROFILE"):
        get_profile()


def test_profiles_are_frozen_and_sizes_consistent():
    with pytest.raises(dataclasses.FrozenInstanceError):
        QUICK.lfw_resize = 1.0
    assert FULL.lfw_image_shape == (250, 250)
    assert QUICK.lfw_image_shape == (62, 62)  # int(0.25 * 250)
    # the classic crop is rows 70:195 and columns 78:172 of the frame: 125 x 94
    assert FULL.face_crop_shape == (125, 94) and QUICK.face_crop_shape == (62, 47)
    assert "profile=quick" in QUICK.describe() and "62x62" in QUICK.describe() and "62x47" in QUICK.describe()


def test_a_profile_holds_only_what_the_chapters_share():
    # Chapter sizes (pairs, epochs, batches) belong to the chapter modules, not to Profile.
    assert [f.name for f in dataclasses.fields(QUICK)] == ["name", "lfw_resize", "face_crop_resize"]


def test_invalid_profile_values_are_rejected():
    with pytest.raises(ValueError, match="lfw_resize"):
        dataclasses.replace(QUICK, lfw_resize=2.0)
    with pytest.raises(ValueError, match="face_crop_resize"):
        dataclasses.replace(QUICK, face_crop_resize=0.0)
    with pytest.raises(ProfileError):
        dataclasses.replace(QUICK, name="medium")


def test_get_profile_returns_a_profile_it_is_given():
    assert get_profile(FULL) is FULL and get_profile(QUICK) is QUICK


def test_check_resize_accepts_none_and_factors_in_the_unit_interval_and_names_the_field():
    from siamese_lessons.profiles import check_resize

    for ok in (None, 0.25, 1.0, 1):
        check_resize("resize", ok)
    for bad in (0.0, -0.5, 1.01, 2):
        with pytest.raises(ValueError, match=r"lfw_resize must be in \(0, 1\] or None"):
            check_resize("lfw_resize", bad)
