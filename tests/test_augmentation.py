import numpy as np
import pytest

from siamese_lessons._tf import keras as _keras
from siamese_lessons._tf import tensorflow
from siamese_lessons.augmentation import FLIP, KOCH_AFFINE, Augmentation, RandomAffine, affine_transforms

keras = _keras()
ops = keras.ops


def _dot(n=1, y=10, x=14, side=21):
    img = np.zeros((n, side, side, 1), np.float32)
    img[:, y, x, 0] = 1.0
    return img


def _peak(image):
    return np.unravel_index(np.asarray(image)[..., 0].argmax(), image.shape[:2])


def test_augmentation_validates_and_knows_identity():
    with pytest.raises(ValueError, match="p must be"):
        Augmentation(p=1.5)
    with pytest.raises(ValueError, match="scale"):
        Augmentation(scale=(1.2, 0.8))
    with pytest.raises(ValueError, match="non-negative"):
        Augmentation(rotation=-1)
    assert Augmentation(p=0.0).is_identity and not FLIP.is_identity and not FLIP.has_affine
    assert KOCH_AFFINE == Augmentation(rotation=10.0, shear=0.3, scale=(0.8, 1.2), translation=2.0, p=0.5)


def test_scale_is_about_the_centre():
    zoom = Augmentation(rotation=0, shear=0, scale=(2.0, 2.0), translation=0, p=1.0)
    out = np.asarray(RandomAffine(zoom, seed=0)(_dot(), training=True))[0]
    # The dot 4 px right of the centre (10, 10) lands 8 px right of it.
    assert _peak(out) == (10, 18)


def test_rotation_keeps_the_distance_to_the_centre():
    turn = Augmentation(rotation=10, shear=0, scale=(1, 1), translation=0, p=1.0)
    out = np.asarray(RandomAffine(turn, seed=0)(_dot(20), training=True))
    for image in out:
        y, x = _peak(image)
        assert abs(np.hypot(y - 10, x - 10) - 4) <= 1.0


def test_probability_gates_each_distortion():
    shift = Augmentation(rotation=0, shear=0, scale=(1, 1), translation=3, p=0.5)
    out = np.asarray(RandomAffine(shift, seed=0)(_dot(400), training=True))
    unmoved = np.mean([_peak(image) == (10, 14) and image.max() > 0.999 for image in out])
    # Half the images keep their place (plus the few whose drawn shift rounds to nothing).
    assert 0.4 < unmoved < 0.65
    again = np.asarray(RandomAffine(shift, seed=0)(_dot(400), training=True))
    np.testing.assert_array_equal(out, again)  # one seed, one sequence of distortions


def test_with_augmentation_distorts_each_branch_of_a_pair_model_on_its_own():
    from siamese_lessons.models import siamese_distance_model, with_augmentation

    keras.utils.set_random_seed(0)
    identity = keras.Sequential([keras.Input((21, 21, 1)), keras.layers.Flatten()], name="pixels")
    shift = Augmentation(rotation=0, shear=0, scale=(1, 1), translation=3, p=1.0)
    model = siamese_distance_model(with_augmentation(identity, shift, seed=0), distance="l2")
    batch = _dot(64)
    # Prediction sees the images unchanged: the two sides are equal.
    np.testing.assert_allclose(np.asarray(model.predict_on_batch([batch, batch])), 0, atol=1e-4)
    # Training draws a distortion per image and per side: the same images now differ.
    moved = np.asarray(model([batch, batch], training=True))
    assert (moved > 0.1).mean() > 0.8


def test_affine_transforms_match_an_independent_inverse():
    rng = np.random.default_rng(0)
    n, h, w = 5, 12, 9
    theta, shx, shy = rng.uniform(-0.3, 0.3, n), rng.uniform(-0.3, 0.3, n), rng.uniform(-0.3, 0.3, n)
    sx, sy = rng.uniform(0.8, 1.2, n), rng.uniform(0.8, 1.2, n)
    tx, ty = rng.uniform(-2, 2, n), rng.uniform(-2, 2, n)
    got = np.asarray(affine_transforms(*(np.float32(v) for v in (theta, shx, shy, sx, sy, tx, ty)), h, w))
    centre = np.array([(w - 1) / 2, (h - 1) / 2])
    for i in range(n):
        rot = np.array([[np.cos(theta[i]), -np.sin(theta[i])], [np.sin(theta[i]), np.cos(theta[i])]])
        forward = rot @ np.array([[1, shx[i]], [shy[i], 1]]) @ np.diag([sx[i], sy[i]])
        inverse = np.linalg.inv(forward)
        # The output pixel where the forward map sends input pixel p must read p back.
        p = np.array([3.0, 7.0])
        out = forward @ (p - centre) + centre + [tx[i], ty[i]]
        t = got[i]
        read = [t[0] * out[0] + t[1] * out[1] + t[2], t[3] * out[0] + t[4] * out[1] + t[5]]
        np.testing.assert_allclose(read, p, atol=1e-4)
        np.testing.assert_allclose(t[[0, 1, 3, 4]], inverse.ravel(), rtol=1e-5)
        assert t[6] == t[7] == 0


def test_keras_affine_transform_matches_tensorflows_projective_transform():
    tf = tensorflow()
    rng = np.random.default_rng(1)
    n, h, w = 6, 14, 11
    images = rng.random((n, h, w, 2)).astype(np.float32)
    params = [rng.uniform(-0.17, 0.17, n), rng.uniform(-0.3, 0.3, n), rng.uniform(-0.3, 0.3, n),
              rng.uniform(0.8, 1.2, n), rng.uniform(0.8, 1.2, n), rng.uniform(-2, 2, n),
              rng.uniform(-2, 2, n)]
    transforms = np.asarray(affine_transforms(*(np.float32(v) for v in params), h, w), np.float32)
    got = np.asarray(ops.image.affine_transform(images, transforms, interpolation="bilinear",
                                                fill_mode="constant", fill_value=1.0))
    reference = tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=[h, w], fill_value=1.0, interpolation="BILINEAR",
        fill_mode="CONSTANT")
    np.testing.assert_allclose(got, np.asarray(reference), atol=1e-5)


def test_random_affine_distorts_only_in_training_and_round_trips(tmp_path):
    image = np.zeros((1, 15, 15, 1), np.float32)
    image[0, 7, 7, 0] = 1.0
    batch = np.repeat(image, 400, axis=0)
    shift = Augmentation(rotation=0.0, shear=0.0, scale=(1.0, 1.0), translation=2.0, p=1.0)
    layer = RandomAffine(shift, seed=0)
    np.testing.assert_array_equal(np.asarray(layer(batch, training=False)), batch)
    moved = np.asarray(layer(batch, training=True))[..., 0]
    ys, xs = np.mgrid[0:15, 0:15]
    mass = moved.sum(axis=(1, 2))
    cy, cx = (moved * ys).sum(axis=(1, 2)) / mass - 7, (moved * xs).sum(axis=(1, 2)) / mass - 7
    # Shifts are uniform in [-2, 2] px per axis, independent per image: inside the range, centred, spread.
    assert np.abs(cx).max() <= 2.0 + 1e-4 and np.abs(cy).max() <= 2.0 + 1e-4
    assert abs(cx.mean()) < 0.2 and abs(cy.mean()) < 0.2 and cx.std() > 0.8
    flip = Augmentation(rotation=0, shear=0, scale=(1, 1), translation=0, flip=True, p=1.0)
    flipped = np.asarray(RandomAffine(flip, seed=0)(batch[:2], training=True))
    np.testing.assert_array_equal(flipped, batch[:2, :, ::-1])
    model = keras.Sequential([keras.Input((15, 15, 1)), RandomAffine(shift, fill_value=1.0, seed=3)])
    model.save(tmp_path / "m.keras")
    back = keras.models.load_model(tmp_path / "m.keras").layers[0]
    assert back.augmentation == shift and back.fill_value == 1.0 and back.seed == 3
    with pytest.raises(TypeError, match="Augmentation"):
        RandomAffine("koch")
