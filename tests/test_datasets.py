import numpy as np
import pytest

from siamese_lessons._tf import tensorflow
from siamese_lessons.data import PairSet
from siamese_lessons.datasets import FLIP, KOCH_AFFINE, Augmentation, augment_images, pair_dataset

tf = tensorflow()


def _dot_image(y=10, x=14, side=21):
    img = np.zeros((1, side, side, 1), np.float32)
    img[0, y, x, 0] = 1.0
    return tf.constant(img)


def _pairs(n=10):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (4, 8, 8), dtype=np.uint8)
    return PairSet(images=images, pairs=[[i % 4, (i + 1) % 4] for i in range(n)],
                   labels=[i % 2 for i in range(n)], identities=list("abcd"), paths=list("1234"))


def test_batches_gather_scale_and_label():
    ps = _pairs()
    (left, right), y = next(iter(pair_dataset(ps, [3, 4], batch_size=2)))
    assert left.shape == (2, 8, 8, 1) and left.dtype == tf.float32
    np.testing.assert_allclose(left.numpy()[0, ..., 0], ps.images[3] / 255.0, rtol=1e-6)
    np.testing.assert_allclose(right.numpy()[1, ..., 0], ps.images[1] / 255.0, rtol=1e-6)
    assert y.numpy().tolist() == [1.0, 0.0]


def test_same_seed_same_batches_different_seed_different():
    ps = _pairs(32)

    def take(seed):
        ds = pair_dataset(ps, batch_size=8, shuffle=True, augmentation=KOCH_AFFINE, seed=seed)
        return np.concatenate([x[0].numpy() for x, _ in ds])

    np.testing.assert_array_equal(take(1), take(1))
    assert not np.array_equal(take(1), take(2))


def test_scale_is_about_the_centre():
    aug = Augmentation(rotation=0, shear=0, scale=(2.0, 2.0), translation=0, p=1.0)
    out = augment_images(_dot_image(), aug, tf.constant([1, 2], tf.int64)).numpy()[0, ..., 0]
    # The dot 4 px right of the centre (10, 10) lands 8 px right of it.
    assert np.unravel_index(out.argmax(), out.shape) == (10, 18)


def test_rotation_keeps_the_distance_to_the_centre_and_shift_is_bounded():
    aug = Augmentation(rotation=10, shear=0, scale=(1, 1), translation=0, p=1.0)
    for k in range(5):
        out = augment_images(_dot_image(), aug, tf.constant([k, 0], tf.int64)).numpy()[0, ..., 0]
        y, x = np.unravel_index(out.argmax(), out.shape)
        assert abs(np.hypot(y - 10, x - 10) - 4) <= 1.0
    shift = Augmentation(rotation=0, shear=0, scale=(1, 1), translation=2, p=1.0)
    for k in range(5):
        out = augment_images(_dot_image(), shift, tf.constant([k, 3], tf.int64)).numpy()[0, ..., 0]
        y, x = np.unravel_index(out.argmax(), out.shape)
        assert abs(y - 10) <= 2 and abs(x - 14) <= 2


def test_flip_and_identity():
    flipped = augment_images(_dot_image(), Augmentation(rotation=0, shear=0, scale=(1, 1), translation=0,
                                                         flip=True, p=1.0), tf.constant([0, 0], tf.int64))
    assert np.unravel_index(flipped.numpy()[0, ..., 0].argmax(), (21, 21)) == (10, 6)
    none = Augmentation(p=0.0)
    assert none.is_identity and not FLIP.is_identity
    np.testing.assert_array_equal(augment_images(_dot_image(), none, tf.constant([0, 0])), _dot_image())


def test_bad_arguments():
    with pytest.raises(ValueError, match="p must be"):
        Augmentation(p=1.5)
    with pytest.raises(ValueError, match="scale"):
        Augmentation(scale=(1.2, 0.8))
    with pytest.raises(ValueError, match="batch_size"):
        pair_dataset(_pairs(), batch_size=0)
    with pytest.raises(ValueError, match="at least one pair"):
        pair_dataset(_pairs(), [])


# --- NumPy pipelines (what pair_dataset returns on backends other than TensorFlow) ---

def test_numpy_warp_matches_tensorflow_projective_transform():
    from siamese_lessons.datasets import sample_affine_matrices, warp_images

    rng = np.random.default_rng(0)
    images = rng.random((6, 20, 16, 2)).astype(np.float32)
    transforms = sample_affine_matrices(6, 20, 16, Augmentation(p=1.0), rng)
    reference = tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=[20, 16], fill_value=0.3,
        interpolation="BILINEAR", fill_mode="CONSTANT").numpy()
    np.testing.assert_allclose(warp_images(images, transforms, 0.3), reference, atol=1e-5)
    with pytest.raises(ValueError, match="transforms"):
        warp_images(images, transforms[:3])


def test_numpy_matrices_follow_the_tensorflow_distribution():
    from siamese_lessons.datasets import affine_matrices, sample_affine_matrices

    ours = sample_affine_matrices(20000, 20, 16, KOCH_AFFINE, np.random.default_rng(1))
    theirs = affine_matrices(20000, 20, 16, KOCH_AFFINE, tf.constant([1, 2])).numpy()
    np.testing.assert_allclose(ours.std(axis=0), theirs.std(axis=0), atol=0.05)
    np.testing.assert_allclose(ours.mean(axis=0), theirs.mean(axis=0), atol=0.05)
    identity = sample_affine_matrices(3, 20, 16, Augmentation(p=0.0), np.random.default_rng(0))
    np.testing.assert_allclose(identity, np.tile([1, 0, 0, 0, 1, 0, 0, 0], (3, 1)), atol=1e-12)


def test_array_pairs_serve_the_same_batches_as_tf_data():
    from siamese_lessons.datasets import ArrayPairs

    ps = _pairs(10)
    ours = ArrayPairs(ps, np.arange(10), batch_size=4)
    theirs = list(pair_dataset(ps, batch_size=4))
    assert len(ours) == len(theirs) == 3
    for i, ((l_tf, r_tf), y_tf) in enumerate(theirs):
        (left, right), y = ours[i]
        np.testing.assert_allclose(left, l_tf.numpy(), rtol=1e-6)
        np.testing.assert_allclose(right, r_tf.numpy(), rtol=1e-6)
        np.testing.assert_array_equal(y, y_tf.numpy())


def test_array_pairs_shuffle_per_epoch_flip_and_repeat():
    from siamese_lessons.datasets import ArrayPairs

    ps = _pairs(32)
    data = ArrayPairs(ps, np.arange(32), batch_size=32, shuffle=True, seed=3)
    first = data[0][1]
    assert sorted(first.tolist()) == sorted(ps.labels.astype(float).tolist())  # a permutation
    np.testing.assert_array_equal(first, data[0][1])  # same epoch, same batch
    data.on_epoch_end()
    assert not np.array_equal(first, data[0][1])
    flipped = ArrayPairs(ps, [0], batch_size=1, augmentation=Augmentation(
        rotation=0, shear=0, scale=(1, 1), translation=0, flip=True, p=1.0))
    np.testing.assert_allclose(flipped[0][0][0][0, ..., 0], ps.images[0][:, ::-1] / 255.0, rtol=1e-6)
    endless = ArrayPairs(ps, np.arange(32), batch_size=8, shuffle=True, repeat=True)
    assert endless.num_batches is None and endless[4][1].shape == (8,)


def test_array_batches_check_their_input():
    from siamese_lessons.datasets import ArrayBatches

    images = np.zeros((5, 4, 4), np.uint8)
    with pytest.raises(IndexError, match="5 images"):
        ArrayBatches(images, np.arange(5), [[0, 5]])
    with pytest.raises(ValueError, match="one entry per image"):
        ArrayBatches(images, np.arange(4), [[0, 1]])
    with pytest.raises(TypeError, match="uint8"):
        ArrayBatches(images.astype(float), np.arange(5), [[0, 1]])
    x, y = ArrayBatches(images + 51, np.arange(5) * 2, [[4, 1]])[0]
    assert x.shape == (2, 4, 4, 1) and np.allclose(x, 0.2) and y.tolist() == [8, 2]
