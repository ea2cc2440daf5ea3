import numpy as np
import pytest

from siamese_lessons.data import (
    DIFFERENT,
    LFW_CLASSIC_CROP,
    LFW_CLASSIC_RESIZE,
    SAME,
    load_lfw_pairs,
    load_lfw_people,
    read_image,
    read_lfw_pairs_file,
)
from siamese_lessons.errors import CorruptImageError, DatasetNotFoundError, MalformedLineError

# ---- unit tests on a tiny fake LFW --------------------------------------------------------


def test_fake_lfw_pairs_store_each_image_once(fake_lfw):
    ps = load_lfw_pairs("train", data_home=fake_lfw)
    # 4 image references, 3 distinct files (Ann_A_0001 appears twice)
    assert ps.images.shape == (3, 250, 250) and ps.images.dtype == np.uint8
    assert ps.paths.tolist() == ["Ann_A/Ann_A_0001.jpg", "Ann_A/Ann_A_0002.jpg", "Bob_B/Bob_B_0001.jpg"]
    assert ps.pairs.tolist() == [[0, 1], [0, 2]]
    assert ps.labels.tolist() == [SAME, DIFFERENT]
    assert ps.folds is None
    expected = read_image(fake_lfw / "lfw_home/lfw_funneled/Bob_B/Bob_B_0001.jpg")
    np.testing.assert_array_equal(ps.images[2], expected)


def test_fake_lfw_ten_folds_carry_the_fold(fake_lfw):
    ps = load_lfw_pairs("10_folds", data_home=fake_lfw, color=True, resize=0.1)
    assert ps.images.shape[1:] == (25, 25, 3)
    assert ps.folds.tolist() == [0, 0, 1, 1]
    assert ps.labels.tolist() == [1, 0, 1, 0]


def test_decoded_tables_are_cached_in_the_lfw_home(fake_lfw, monkeypatch):
    from siamese_lessons.data import DECODED_CACHE, _common

    people = load_lfw_people(data_home=fake_lfw, resize=0.1)
    pairs = load_lfw_pairs("test", data_home=fake_lfw, resize=0.1)
    assert len(list((fake_lfw / "lfw_home" / DECODED_CACHE).glob("*.npy"))) == 2
    monkeypatch.setattr(_common, "read_image", lambda *a, **k: pytest.fail("decoded a cached table"))
    np.testing.assert_array_equal(load_lfw_people(data_home=fake_lfw, resize=0.1).images, people.images)
    np.testing.assert_array_equal(load_lfw_pairs("test", data_home=fake_lfw, resize=0.1).images, pairs.images)


def test_pair_naming_a_missing_image_is_an_error(fake_lfw):
    (fake_lfw / "lfw_home/lfw_funneled/Bob_B/Bob_B_0001.jpg").unlink()
    with pytest.raises(FileNotFoundError, match=r"pairsDevTrain.txt, line 3: .*Bob_B_0001.jpg"):
        load_lfw_pairs("train", data_home=fake_lfw)


def test_corrupt_image_names_the_file(fake_lfw):
    (fake_lfw / "lfw_home/lfw_funneled/Cy_C/Cy_C_0002.jpg").write_bytes(b"\xff\xd8truncated")
    with pytest.raises(CorruptImageError, match="Cy_C_0002.jpg"):
        load_lfw_pairs("test", data_home=fake_lfw)


def test_missing_dataset_names_path_and_variable(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_lfw_pairs("train", data_home=tmp_path / "nowhere")
    message = str(info.value)
    assert "nowhere/lfw_home" in message and "SCIKIT_LEARN_DATA" in message
    assert "download" in message.lower()
    assert not (tmp_path / "nowhere").exists()  # nothing created as a side effect


def test_invalid_subset():
    with pytest.raises(ValueError, match="10_folds"):
        load_lfw_pairs("dev")


@pytest.mark.parametrize("content, line, match", [
    ("x\nA\t1\t2\n", 1, "header"),
    ("1\nA\t1\t2\nA\t1\tB\n", 3, "name1"),
    ("1\nA\t1\t2\nA\tone\tB\t1\n", 3, "name1"),
    ("1\nA\t0\t2\nA\t1\tB\t1\n", 2, "1 or more"),
    ("1\nA\t1\tB\t1\nA\t1\t2\n", 2, "same-person pair"),
    ("2\nA\t1\t2\nA\t1\tB\t1\n", 3, "4 pairs as the header says, found 2"),
])
def test_malformed_pair_files_name_the_line(tmp_path, content, line, match):
    f = tmp_path / "pairs.txt"
    f.write_text(content)
    with pytest.raises(MalformedLineError, match=match) as info:
        read_lfw_pairs_file(f)
    assert info.value.line_number == line
    assert f"line {line}" in str(info.value)


# ---- the real data -----------------------------------------------------------------------


@pytest.mark.data
def test_official_pair_files(lfw_data_home):
    home = lfw_data_home / "lfw_home"
    train = read_lfw_pairs_file(home / "pairsDevTrain.txt")
    assert len(train.labels) == 2200 and train.labels.sum() == 1100
    assert train.names[0].tolist() == ["Aaron_Peirsol", "Aaron_Peirsol"]
    assert train.numbers[0].tolist() == [1, 2]
    view2 = read_lfw_pairs_file(home / "pairs.txt")
    assert len(view2.labels) == 6000
    for fold in range(10):
        in_fold = view2.folds == fold
        assert in_fold.sum() == 600 and view2.labels[in_fold].sum() == 300


@pytest.mark.data
def test_view1_sizes_and_identity_disjointness(lfw_data_home):
    train = load_lfw_pairs("train", resize=0.125)  # chapter 2's 31x31, cached by the chapter
    test = load_lfw_pairs("test", resize=0.125)
    assert (len(train), len(test)) == (2200, 1000)
    assert (len(train.images), len(test.images)) == (3443, 1549)  # distinct images
    same = train.labels == SAME
    ids = train.pair_identities
    assert (ids[same, 0] == ids[same, 1]).all() and (ids[~same, 0] != ids[~same, 1]).all()
    assert not (train.people & test.people)  # View 1 train and test share nobody


@pytest.mark.data
def test_full_frame_pixels_equal_scikit_learn_decoder(lfw_data_home):
    """At 250x250 grey/colour, our uint8 pixels are scikit-learn's floats x 255, rounded."""
    from sklearn.datasets._lfw import _load_imgs

    ps = load_lfw_pairs("test", resize=None)
    files = [str(lfw_data_home / "lfw_home/lfw_funneled" / p) for p in ps.paths[:25]]
    reference = _load_imgs(files, None, False, None)  # what fetch_lfw_pairs(slice_=None, resize=None) decodes
    assert reference.shape == (25, 250, 250)
    assert np.abs(ps.images[:25] / 255.0 - reference).max() <= 0.5 / 255 + 1e-6
    color = load_lfw_pairs("test", color=True, resize=0.2)
    ref_color = _load_imgs(files[:5], None, True, 0.2)
    assert np.abs(color.images[:5] / 255.0 - ref_color).max() <= 1e-6


@pytest.mark.data
def test_classic_pairs_match_fetch_lfw_pairs(lfw_data_home):
    from sklearn.datasets import fetch_lfw_pairs

    ours = load_lfw_pairs("test", crop=LFW_CLASSIC_CROP, resize=LFW_CLASSIC_RESIZE)
    ref = fetch_lfw_pairs(subset="test", download_if_missing=False)  # classic crop + resize 0.5
    assert ref.pairs.shape == (1000, 2, 62, 47)
    np.testing.assert_array_equal(ours.labels, ref.target)
    ours_pairs = ours.images[ours.pairs] / 255.0  # (1000, 2, 62, 47), rebuilt from the table
    assert np.abs(ours_pairs - ref.pairs).max() <= 0.5 / 255 + 1e-6


@pytest.mark.data
def test_people_match_fetch_lfw_people(lfw_data_home):
    from sklearn.datasets import fetch_lfw_people

    ours = load_lfw_people(70, crop=LFW_CLASSIC_CROP, resize=LFW_CLASSIC_RESIZE)
    ref = fetch_lfw_people(min_faces_per_person=70, download_if_missing=False)
    assert len(ours) == len(ref.images) == 1288 and ours.n_classes == 7
    order = np.arange(len(ours))
    np.random.RandomState(42).shuffle(order)  # scikit-learn's fixed shuffle of its copy
    assert np.abs(ours.images[order] / 255.0 - ref.images).max() <= 0.5 / 255 + 1e-6
    assert [n.replace("_", " ") for n in ours.class_names] == ref.target_names.tolist()
    np.testing.assert_array_equal(ours.labels[order], ref.target)
