"""The embedding chapters' shared data split and collapse rule."""

import numpy as np
import pytest

from siamese_lessons.course import faces
from siamese_lessons.pairs import split_identities


@pytest.mark.data
def test_face_data_splits_by_person_three_ways(lfw_data_home):
    data = faces.face_data(0.25)
    train = set(data.train.class_names[np.unique(data.train.labels)])
    validation = set(data.validation.class_names[np.unique(data.validation.labels)])
    assert len(validation) == faces.VALIDATION_PEOPLE
    assert not train & validation and not (train | validation) & set(data.test.people)
    assert len(data.validation_pairs) == faces.VALIDATION_PAIRS
    assert set(data.validation_pairs.pair_identities.ravel()) <= validation
    assert data.validation_pairs.labels.mean() == 0.5


def test_collapse_is_judged_against_the_margin():
    assert faces.is_collapsed(0.1, 0.2) and not faces.is_collapsed(1.3, 0.2)
    assert faces.is_collapsed(0.9, 1.0)  # the same spread is fine for a small margin, not for a large one


def test_split_identities_holds_out_whole_people_with_two_images():
    from siamese_lessons.data import IdentitySet

    data = IdentitySet(images=np.zeros((7, 2, 2), np.uint8), labels=[0, 0, 1, 2, 2, 2, 3],
                       class_names=["a", "b", "c", "d"])
    train, held = split_identities(data, 2, seed=0)
    assert sorted(set(held.identities)) == ["a", "c"]  # the only people with two or more images
    assert sorted(set(train.identities)) == ["b", "d"] and len(train) + len(held) == 7
    with pytest.raises(ValueError, match="only 2 identities"):
        split_identities(data, 3)
    with pytest.raises(ValueError, match="positive"):
        split_identities(data, 0)
