"""Chapter 8's course module: classes, splits, sizes, and that its full-profile
configuration learns."""

import dataclasses

import numpy as np
import pytest

from siamese_lessons.course import ch08_margin_softmax as ch08
from siamese_lessons.data import IdentitySet, PairSet
from tests.test_baselines import _faces


def test_classes_keep_people_with_enough_images_and_renumber_them():
    people = IdentitySet(images=np.zeros((7, 4, 4), np.uint8), labels=[5, 5, 5, 2, 9, 9, 9],
                         class_names=[str(i) for i in range(10)])
    images, labels = ch08.classes(people, 3)
    assert len(images) == 6 and labels.tolist() == [0, 0, 0, 1, 1, 1]  # 5 -> 0, 9 -> 1; 2 dropped
    with pytest.raises(ValueError, match="4 or more"):
        ch08.classes(people, 4)


def test_olivetti_split_is_by_person_and_crops_to_the_aspect():
    pixels = np.arange(40 * 10 * 64 * 64, dtype=np.int64).reshape(400, 64, 64).astype(np.uint8)
    faces = IdentitySet(images=pixels, labels=np.repeat(np.arange(40), 10),
                        class_names=[f"s{i}" for i in range(40)])
    tune, validation, test = ch08.olivetti_split(faces, (31, 23, 1), seed=0)
    assert (len(tune), len(validation), len(test)) == (150, 50, 200)
    parts = [set(np.unique(p.labels)) for p in (tune, validation, test)]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert tune.images.shape[1:] == (64, 47)  # round(64 * 23 / 31) columns, about the centre
    first = np.flatnonzero(faces.labels == tune.labels[0])[0]
    np.testing.assert_array_equal(tune.images[0], faces.images[first][:, 8:55])
    with pytest.raises(ValueError, match="40 people"):
        ch08.olivetti_split(faces.subset(np.arange(100)), (31, 23, 1))


def test_identification_split_enrols_half_of_the_people_with_one_image_each():
    # Six people with 2-3 images, one person with one image (never a probe or in the gallery).
    ids = np.array(["a", "a", "b", "b", "b", "c", "c", "d", "d", "e", "e", "f", "f", "g"])
    pairs = PairSet(images=np.arange(14, dtype=np.uint8)[:, None, None].repeat(2, 1).repeat(2, 2),
                    pairs=[[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [10, 11], [12, 13]], labels=[1] * 7,
                    identities=ids, paths=[str(i) for i in range(14)])
    gallery, probes = ch08.identification_split(pairs, seed=0)
    enrolled = gallery.class_names[gallery.labels]
    assert len(enrolled) == len(set(enrolled)) == 3
    assert len(gallery) + len(probes) == 13 and "g" not in set(probes.class_names[probes.labels])
    assert not set(gallery.images[:, 0, 0]) & set(probes.images[:, 0, 0])  # an enrolled image is no probe


def test_sizes_and_methods_are_validated():
    assert ch08.sizes("quick").live == ch08.METHODS and ch08.sizes("full").view2_folds is None
    with pytest.raises(ValueError, match="multiple of 4"):
        dataclasses.replace(ch08.SIZES["quick"], batch_size=30)
    with pytest.raises(ValueError, match="sphereface"):
        dataclasses.replace(ch08.SIZES["quick"], live=("sphereface",))
    with pytest.raises(ValueError, match="unknown method"):
        ch08.train_method(_faces(), ch08.SIZES["quick"], "sphereface")


def test_a_short_margin_softmax_run_gives_a_unit_length_embedder():
    people = _faces(n_people=8, per=6, side=16)
    run = dataclasses.replace(ch08.SIZES["quick"], steps=4, batch_size=16, min_images=4)
    embedder, history = ch08.train(people, run, "arcface")
    out = embedder.predict(people.images[:5, ..., None], verbose=0)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-4)
    assert len(history) == 4 and np.isfinite(history["loss"]).all()
    with pytest.raises(ValueError, match="a batch needs"):
        ch08.train(people.subset(np.arange(12)), run, "cosface")


@pytest.mark.data
def test_full_profile_configuration_learns_a_slice(lfw_data_home):
    from siamese_lessons.course.faces import lfw_embedding_data

    people, _ = lfw_embedding_data(ch08.SIZES["full"].resize)
    frame = ch08.learning_check(people, ch08.SIZES["full"], "cosface", steps=30)
    first, last = frame.iloc[0], frame.iloc[-1]
    assert last["data_loss"] <= 0.5 * first["data_loss"], frame
    assert last["auc"] >= 0.95 > first["auc"], frame
