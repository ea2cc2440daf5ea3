import numpy as np
import pytest

from siamese_lessons.data import DIFFERENT, SAME, IdentitySet, ImageList, OneShotTrials, PairSet


def _pairset(**kw):
    images = np.arange(3 * 2 * 2, dtype=np.uint8).reshape(3, 2, 2) * 20
    args = dict(images=images, pairs=[[0, 1], [1, 2]], labels=[1, 0],
                identities=["a", "a", "b"], paths=["a/1", "a/2", "b/1"], name="t")
    args.update(kw)
    return PairSet(**args)


def test_label_convention():
    assert SAME == 1 and DIFFERENT == 0


def test_pairset_batch_keeps_the_stored_pixels_and_adds_a_channel():
    ps = _pairset()
    left, right, y = ps.batch([1])
    assert left.shape == (1, 2, 2, 1) and left.dtype == np.uint8
    # image 1 holds 80, 100, 120, 140
    np.testing.assert_array_equal(left[0, :, :, 0], np.array([[80, 100], [120, 140]]))
    assert right[0, 0, 0, 0] == 160
    assert y.tolist() == [0.0]


def test_pairset_views_and_subset_share_the_table():
    ps = _pairset()
    assert ps.pair_identities.tolist() == [["a", "a"], ["a", "b"]]
    assert ps.people == {"a", "b"}
    sub = ps.subset(np.array([False, True]))
    assert len(sub) == 1 and sub.images is ps.images and sub.labels.tolist() == [0]
    assert ps.subset([1]).pairs.tolist() == [[1, 2]]
    with pytest.raises(ValueError, match=r"boolean index must have shape \(2,\)"):
        ps.subset(np.array([True]))
    assert "1 same, 1 different" in repr(ps)


@pytest.mark.parametrize("kw, error, match", [
    (dict(images=np.zeros((3, 2, 2), np.float32)), TypeError, "uint8"),
    (dict(pairs=[[0, 3], [1, 2]]), IndexError, "3 images"),
    (dict(pairs=[[0, 1, 2], [1, 2, 0]]), ValueError, r"shape \(n, 2\)"),
    (dict(labels=[1, 2]), ValueError, "label 2 at pair 1"),
    (dict(labels=[1]), ValueError, "labels must have shape"),
    (dict(identities=["a"]), ValueError, "identities"),
    (dict(folds=[0]), ValueError, "folds"),
])
def test_pairset_rejects_bad_input(kw, error, match):
    with pytest.raises(error, match=match):
        _pairset(**kw)


def test_identity_set_counts_and_subset():
    ds = IdentitySet(images=np.zeros((4, 3, 3), np.uint8), labels=[0, 1, 1, 2],
                     class_names=["x", "y", "z"], groups={"g": np.array([5, 6, 7, 8])})
    assert ds.counts() == {"x": 1, "y": 2, "z": 1}
    assert ds.identities.tolist() == ["x", "y", "y", "z"]
    sub = ds.subset([1, 3])
    assert sub.n_classes == 2 and sub.groups["g"].tolist() == [6, 8]
    masked = ds.subset(np.array([False, True, False, True]))
    assert masked.labels.tolist() == [1, 2] and masked.groups["g"].tolist() == [6, 8]
    with pytest.raises(ValueError, match=r"boolean index must have shape \(4,\), got \(3,\)"):
        ds.subset(np.array([True, False, True]))
    with pytest.raises(IndexError):
        IdentitySet(images=np.zeros((1, 3, 3), np.uint8), labels=[3], class_names=["x"])
    with pytest.raises(ValueError, match="groups"):
        IdentitySet(images=np.zeros((1, 3, 3), np.uint8), labels=[0], class_names=["x"],
                    groups={"g": np.array([1, 2])})


def test_image_list_and_trials_validation():
    lst = ImageList(root="/r", paths=["a/1.jpg", "b/2.jpg"], labels=[0, 1])
    assert lst.absolute_paths() == ["/r/a/1.jpg", "/r/b/2.jpg"]
    with pytest.raises(ValueError):
        ImageList(root="/r", paths=["a"], labels=[0, 1])
    table = np.zeros((5, 2, 2), np.uint8)
    trials = OneShotTrials(images=table, queries=[0], candidates=[[1, 2, 3]], answers=[2], runs=[1])
    assert trials.n_way == 3 and len(trials) == 1
    with pytest.raises(ValueError, match="answers"):
        OneShotTrials(images=table, queries=[0], candidates=[[1, 2, 3]], answers=[3], runs=[1])
    with pytest.raises(IndexError):
        OneShotTrials(images=table, queries=[9], candidates=[[1, 2, 3]], answers=[0], runs=[1])


def test_distinct_images_of_selected_pairs():
    ps = _pairset(pairs=[[2, 1], [1, 2]])
    used, inverse = ps.distinct_images([0])
    assert used.tolist() == [1, 2] and inverse.tolist() == [[1, 0]]
    used, inverse = ps.distinct_images()
    np.testing.assert_array_equal(used[inverse], ps.pairs)  # rebuilds every pair


def test_save_and_load_arrays_round_trip_every_container(tmp_path):
    from siamese_lessons.data import load_arrays, save_arrays

    rng = np.random.default_rng(0)
    table = rng.integers(0, 256, (6, 5, 4), dtype=np.uint8)
    people = IdentitySet(images=table, labels=[0, 0, 1, 1, 2, 2], class_names=["a", "b", "c"],
                         groups={"alphabet": np.array([0, 0, 0, 0, 1, 1])}, name="people")
    view = PairSet(images=table, pairs=[[0, 1], [2, 4]], labels=[1, 0], identities=list("aabbcc"),
                   paths=[f"{i}.jpg" for i in range(6)], folds=[0, 1], name="pairs")
    no_folds = PairSet(images=table, pairs=[[0, 1]], labels=[1], identities=list("aabbcc"),
                       paths=[f"{i}.jpg" for i in range(6)])
    trials = OneShotTrials(images=table, queries=[0], candidates=[[1, 2, 3]], answers=[2], runs=[1])
    path = save_arrays(tmp_path / "carry", people=people, view=view, no_folds=no_folds, trials=trials)
    assert path == tmp_path / "carry.npz" and path.is_file()
    back = load_arrays(path)
    assert sorted(back) == ["no_folds", "people", "trials", "view"]
    assert isinstance(back["people"], IdentitySet) and back["people"].name == "people"
    np.testing.assert_array_equal(back["people"].images, table)
    np.testing.assert_array_equal(back["people"].groups["alphabet"], [0, 0, 0, 0, 1, 1])
    assert back["people"].class_names.tolist() == ["a", "b", "c"]
    np.testing.assert_array_equal(back["view"].folds, [0, 1])
    assert back["no_folds"].folds is None and back["no_folds"].name == ""
    np.testing.assert_array_equal(back["trials"].candidates, [[1, 2, 3]])
    with pytest.raises(TypeError, match="plain names"):
        save_arrays(tmp_path / "bad.npz", people=np.zeros(3))
    np.savez(tmp_path / "other.npz", images=table)
    with pytest.raises(ValueError, match="not a save_arrays file"):
        load_arrays(tmp_path / "other.npz")


def test_as_model_input_keeps_uint8_and_adds_a_channel_axis():
    from siamese_lessons.data import PIXEL_MAX, as_model_input

    grey = np.array([[[0, 51], [102, 255]]], np.uint8)
    x = as_model_input(grey)
    assert x.dtype == np.uint8 and x.shape == (1, 2, 2, 1) and PIXEL_MAX == 255
    np.testing.assert_array_equal(x[0, :, :, 0], [[0, 51], [102, 255]])
    assert np.shares_memory(x, grey)  # a view: a batch is not copied
    rgb = np.full((2, 1, 1, 3), 255, np.uint8)
    assert as_model_input(rgb).shape == (2, 1, 1, 3) and as_model_input(rgb).max() == 255
    with pytest.raises(TypeError, match="uint8"):
        as_model_input(grey / 255.0)  # already scaled: the model's rescaling would darken it 255-fold
    with pytest.raises(ValueError, match="shape"):
        as_model_input(np.zeros((4, 4), np.uint8))
