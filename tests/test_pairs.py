import numpy as np
import pytest

from siamese_lessons.data import IdentitySet, PairSet, load_lfw_pairs, load_lfw_people
from siamese_lessons.errors import IdentityLeakageError
from siamese_lessons.pairs import check_no_identity_leakage, exclude_identities


def _people():
    return IdentitySet(images=np.zeros((5, 2, 2), np.uint8), labels=[0, 0, 1, 2, 2],
                       class_names=["Ann", "Bob", "Cy"])


def _eval_pairs():
    return PairSet(images=np.zeros((2, 2, 2), np.uint8), pairs=[[0, 1]], labels=[0],
                   identities=["Bob", "Dan"], paths=["b", "d"])


def test_exclude_identities_removes_every_image_of_evaluation_people():
    kept = exclude_identities(_people(), _eval_pairs())
    assert kept.identities.tolist() == ["Ann", "Ann", "Cy", "Cy"]
    check_no_identity_leakage(kept, _eval_pairs())  # no error once excluded
    assert exclude_identities(_people(), ["Ann", "Cy"]).identities.tolist() == ["Bob"]


def test_leakage_is_detected_on_a_crafted_case():
    with pytest.raises(IdentityLeakageError, match="1 identities.*Bob") as info:
        check_no_identity_leakage(_people(), _eval_pairs(), context="fold 3")
    assert info.value.shared == ["Bob"] and "fold 3" in str(info.value)
    with pytest.raises(TypeError):
        check_no_identity_leakage(["Ann"], "Ann")


@pytest.mark.data
def test_lfw_people_minus_devtest(lfw_data_home):
    test = load_lfw_pairs("test", resize=0.05)
    people = load_lfw_people(resize=0.05)
    assert len(people) == 13233 and people.n_classes == 5749
    with pytest.raises(IdentityLeakageError):
        check_no_identity_leakage(people, test)
    train = exclude_identities(people, test)
    check_no_identity_leakage(train, test)
    assert train.n_classes == 5749 - len(test.people)
