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
    # At chapter 2's sampled-pairs size (31x31), whose decoded images the chapter caches.
    test = load_lfw_pairs("test", resize=0.125)
    people = load_lfw_people(resize=0.125)
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


def _grouped():
    # Identities 0, 1 in alphabet "a"; 2, 3, 4 in "b"; 5 alone in "c" (four images each).
    labels = np.repeat(np.arange(6), 4)
    groups = {"alphabet": np.repeat(np.array(["a", "a", "b", "b", "b", "c"]), 4)}
    return IdentitySet(images=np.zeros((24, 2, 2), np.uint8), labels=labels,
                       class_names=[f"c{k}" for k in range(6)], groups=groups)


def test_negatives_within_a_group_never_cross_groups_and_reach_every_pair_of_its_classes():
    from siamese_lessons.pairs import sample_pairs

    data = _grouped()
    # Within-group negatives possible: 16 in "a" (4 x 4 images) and 48 in "b" (3 class pairs x 16).
    pairs = sample_pairs(data, 60, seed=0, negatives_within="alphabet")
    alphabet = data.groups["alphabet"]
    neg = pairs.pairs[pairs.labels == 0]
    assert len(neg) == 30
    assert (alphabet[neg[:, 0]] == alphabet[neg[:, 1]]).all()
    assert (data.labels[neg[:, 0]] != data.labels[neg[:, 1]]).all()
    # The lone class of group "c" can only appear in same pairs.
    assert not np.isin(neg, np.arange(20, 24)).any()
    # Every class pair of a group is drawn: {0,1} in "a" and {2,3},{2,4},{3,4} in "b".
    drawn = {tuple(sorted(p)) for p in data.labels[neg].tolist()}
    assert drawn == {(0, 1), (2, 3), (2, 4), (3, 4)}
    # Without the option negatives do cross groups.
    free = sample_pairs(data, 60, seed=0)
    neg = free.pairs[free.labels == 0]
    assert (alphabet[neg[:, 0]] != alphabet[neg[:, 1]]).any()


def test_negatives_within_rejects_unknown_split_and_singleton_groups():
    from siamese_lessons.pairs import sample_pairs

    data = _grouped()
    with pytest.raises(ValueError, match="'script' is not a group.*alphabet"):
        sample_pairs(data, 10, negatives_within="script")
    split = dict(data.groups)
    split["alphabet"] = split["alphabet"].copy()
    split["alphabet"][1] = "b"  # one image of c0 in another alphabet
    with pytest.raises(ValueError, match="'c0' has images in more than one 'alphabet'"):
        sample_pairs(IdentitySet(data.images, data.labels, data.class_names, groups=split), 10,
                     negatives_within="alphabet")
    lonely = {"alphabet": np.repeat(np.array(["a", "b", "c", "d", "e", "f"]), 4)}
    with pytest.raises(ValueError, match="no 'alphabet' group has two identities"):
        sample_pairs(IdentitySet(data.images, data.labels, data.class_names, groups=lonely), 10,
                     negatives_within="alphabet")
