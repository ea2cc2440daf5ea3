import numpy as np
import pytest

from siamese_lessons.data import PairSet
from siamese_lessons.datasets import ArrayBatches, ArrayPairs, identity_batch_dataset, pair_dataset


def _pairs(n=10):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (4, 8, 8), dtype=np.uint8)
    return PairSet(images=images, pairs=[[i % 4, (i + 1) % 4] for i in range(n)],
                   labels=[i % 2 for i in range(n)], identities=list("abcd"), paths=list("1234"))


def test_batches_gather_the_stored_pixels_and_labels():
    ps = _pairs()
    data = ArrayPairs(ps, [3, 4], batch_size=2)
    assert len(data) == 1
    (left, right), y = data[0]
    assert left.shape == (2, 8, 8, 1) and left.dtype == np.uint8  # the models rescale inside
    # pair 3 is (3, 0), pair 4 is (0, 1)
    np.testing.assert_array_equal(left[0, ..., 0], ps.images[3])
    np.testing.assert_array_equal(right[1, ..., 0], ps.images[1])
    assert y.dtype == np.float32 and y.tolist() == [1.0, 0.0]


def test_last_batch_is_short_and_every_pair_is_served_once():
    ps = _pairs(10)
    data = ArrayPairs(ps, np.arange(10), batch_size=4)
    assert len(data) == 3 and data.num_batches == 3
    labels = np.concatenate([data[i][1] for i in range(3)])
    np.testing.assert_array_equal(labels, ps.labels)


def test_tf_data_pairs_serve_the_array_batches_and_shuffle_every_pair_once():
    ps = _pairs(10)
    ours = ArrayPairs(ps, np.arange(10), batch_size=4)
    theirs = list(pair_dataset(ps, batch_size=4))  # tf.data on the TensorFlow backend
    assert len(theirs) == 3
    for i, ((left, right), y) in enumerate(theirs):
        (l_np, r_np), y_np = ours[i]
        assert np.asarray(left).dtype == np.uint8  # bytes to the model, which rescales inside
        np.testing.assert_allclose(np.asarray(left), l_np, rtol=1e-6)
        np.testing.assert_allclose(np.asarray(right), r_np, rtol=1e-6)
        np.testing.assert_array_equal(np.asarray(y), y_np)
    shuffled = pair_dataset(ps, batch_size=10, shuffle=True, seed=1)
    first, second = (np.asarray(next(iter(shuffled))[0][0]) for _ in range(2))
    assert sorted(first[:, 0, 0, 0].tolist()) == sorted(ours[0][0][0][:4, 0, 0, 0].tolist()
                                                         + ours[1][0][0][:, 0, 0, 0].tolist()
                                                         + ours[2][0][0][:, 0, 0, 0].tolist())
    assert not np.array_equal(first, second)  # a new order each pass


def test_same_seed_same_order_and_a_new_order_each_epoch():
    ps = _pairs(32)
    data = ArrayPairs(ps, np.arange(32), batch_size=32, shuffle=True, seed=3)
    first = data[0][1]
    assert sorted(first.tolist()) == sorted(ps.labels.astype(float).tolist())  # a permutation
    np.testing.assert_array_equal(first, data[0][1])  # same epoch, same batch
    np.testing.assert_array_equal(first, ArrayPairs(ps, np.arange(32), batch_size=32, shuffle=True,
                                                    seed=3)[0][1])
    left = data[0][0][0]
    data.on_epoch_end()
    assert not np.array_equal(left, data[0][0][0])
    endless = ArrayPairs(ps, np.arange(32), batch_size=8, shuffle=True, repeat=True)
    assert endless.num_batches is None and endless[4][1].shape == (8,)
    # Batch 4 of an endless stream is batch 0 of its second epoch.
    np.testing.assert_array_equal(endless[4][1], ArrayPairs(ps, np.arange(32), batch_size=8, shuffle=True,
                                                            seed=0, repeat=True)[4][1])


def test_pair_dataset_rejects_bad_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        pair_dataset(_pairs(), batch_size=0)
    with pytest.raises(ValueError, match="at least one pair"):
        pair_dataset(_pairs(), [])
    with pytest.raises(IndexError, match="10 pairs"):
        pair_dataset(_pairs(), [3, 10])


def test_identity_batches_check_their_input():
    images = np.zeros((5, 4, 4), np.uint8)
    with pytest.raises(IndexError, match="5 images"):
        identity_batch_dataset(images, np.arange(5), [[0, 5]])
    with pytest.raises(ValueError, match="one entry per image"):
        identity_batch_dataset(images, np.arange(4), [[0, 1]])
    with pytest.raises(TypeError, match="uint8"):
        identity_batch_dataset(images.astype(float), np.arange(5), [[0, 1]])
    with pytest.raises(ValueError, match="non-empty"):
        identity_batch_dataset(images, np.arange(5), [0, 1])
    data = ArrayBatches(images + 51, np.arange(5) * 2, [[4, 1], [0, 0]])
    assert len(data) == 2
    x, y = data[0]
    assert x.shape == (2, 4, 4, 1) and x.dtype == np.uint8 and (x == 51).all() and y.tolist() == [8, 2]
    batches = list(identity_batch_dataset(images + 51, np.arange(5) * 2, [[4, 1], [0, 0]]))
    first = np.asarray(batches[0][0])
    assert len(batches) == 2 and first.dtype == np.uint8 and (first == 51).all()
    assert np.asarray(batches[0][1]).tolist() == [8, 2] and np.asarray(batches[1][1]).tolist() == [0, 0]
