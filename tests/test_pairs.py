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


def test_pk_batches_group_identities():
    from siamese_lessons.pairs import pk_batches

    labels = np.repeat(np.arange(6), [1, 2, 3, 4, 5, 6])  # identity 0 has a single image
    data = IdentitySet(images=np.zeros((len(labels), 1, 1), np.uint8), labels=labels,
                       class_names=[str(i) for i in range(6)])
    batches = pk_batches(data, p=3, k=4, n_batches=50, seed=0)
    assert batches.shape == (50, 12)
    for row in batches:
        groups = labels[row].reshape(3, 4)
        assert (groups == groups[:, :1]).all()  # k images of one identity per group
        assert len(set(groups[:, 0])) == 3 and 0 not in groups  # p distinct, all with >= 2 images
        for g in row.reshape(3, 4):
            if np.bincount(labels)[labels[g[0]]] >= 4:
                assert len(set(g)) == 4  # without replacement when possible
    np.testing.assert_array_equal(batches, pk_batches(data, 3, 4, 50, seed=0))
    with pytest.raises(ValueError, match="only 5 identities"):
        pk_batches(data, p=6, k=2, n_batches=1)
