"""siamese_lessons.models: towers, pair and embedding models, input resizing."""

import numpy as np
import pytest

from siamese_lessons._tf import keras as _keras
from siamese_lessons.models import (
    build_tower,
    improved_tower,
    koch_tower,
    lfw_seed_tower,
    siamese_pair_model,
    vgg_tower,
)

keras = _keras()

#: Every tower of TOWERS, small enough to build in a test.
SMALL_TOWERS = [
    ("koch", (105, 105, 1), {"width": 0.05}),
    ("lfw_seed", (24, 24, 1), {"filters": 4, "dense_units": 8}),
    ("improved", (24, 24, 1), {"filters": (4, 8), "embedding_dim": 6}),
    ("vgg", (24, 24, 1), {"filters": (4, 8), "dense_units": 8}),
]


def test_koch_parameter_count_matches_the_paper_architecture():
    tower = koch_tower()
    # Hand count: convs 6,464 + 401,536 + 262,272 + 524,544; dense 6*6*256*4096 + 4096; head 4096 + 1
    assert tower.count_params() == 38_947_648
    assert siamese_pair_model(tower).count_params() == 38_951_745
    assert tower.output_shape == (None, 4096)
    assert tower.get_layer("dense").activation.__name__ == "sigmoid"


def test_lfw_seed_tower_is_the_244m_parameter_model():
    tower = lfw_seed_tower(kernel_initializer="zeros")  # counted only: no 244 million random draws
    assert not np.any(tower.get_layer("conv1").get_weights()[0])
    # 250 -> 124 -> 61 after two 3x3 stride-2 valid convolutions; 61*61*64 = 238,144 features
    assert tower.get_layer("flatten").output.shape[-1] == 238_144
    assert tower.count_params() == 64 * 10 + 64 * (9 * 64 + 1) + 238_144 * 1024 + 1024 == 243_898_048
    with pytest.raises(ValueError, match="do not fit"):
        lfw_seed_tower((20, 20, 1), conv_blocks=5)
    # The default kernels are Glorot uniform: within +-sqrt(6 / (fan_in + fan_out)), and filling it.
    small = lfw_seed_tower((32, 32, 1), filters=4, dense_units=8, seed=0)  # 32 -> 15 -> 7: 7*7*4 inputs
    kernel = small.get_layer("dense").get_weights()[0]
    limit = np.sqrt(6 / (7 * 7 * 4 + 8))
    assert kernel.shape == (196, 8) and limit * 0.9 < np.abs(kernel).max() <= limit


def test_other_towers_and_registry():
    assert improved_tower((62, 62, 1)).output_shape == (None, 128)
    assert vgg_tower((32, 32, 3), filters=(8, 16)).output_shape == (None, 512)
    assert build_tower("lfw_seed", (62, 62, 1), dense_units=64).output_shape == (None, 64)
    with pytest.raises(ValueError, match="unknown tower"):
        build_tower("resnet", (62, 62, 1))
    with pytest.raises(ValueError, match="input_shape"):
        koch_tower((105, 105))


def test_both_branches_share_one_set_of_weights():
    tower = lfw_seed_tower((32, 32, 1), filters=4, dense_units=8, seed=0)
    model = siamese_pair_model(tower, seed=0)
    shared = model.get_layer("tower")
    # The model's weights are the tower's once plus the head's (8 + 1): no second copy.
    assert model.count_params() == tower.count_params() + 9
    assert {id(v) for v in shared.trainable_variables} == {id(v) for v in tower.trainable_variables}
    x = np.random.default_rng(0).random((4, 32, 32, 1)).astype(np.float32)
    p_ab = model.predict([x, x[::-1]], verbose=0)
    p_ba = model.predict([x[::-1], x], verbose=0)
    np.testing.assert_allclose(p_ab, p_ba, rtol=1e-5)  # symmetric because the weights are shared
    # Changing a tower weight changes both branches' embeddings.
    w = tower.get_layer("dense").kernel
    w.assign(w * 0)
    emb = shared.predict(x, verbose=0)
    np.testing.assert_allclose(emb, np.full_like(emb, 0.5), atol=1e-6)  # sigmoid(0 + bias 0)


@pytest.mark.parametrize("distance", ["l1", "l2", "cosine"])
def test_pair_model_round_trips_through_save_and_load(tmp_path, distance):
    model = siamese_pair_model(improved_tower((16, 16, 1), filters=(4,), embedding_dim=6, seed=1),
                               distance=distance, seed=1)
    x = np.random.default_rng(1).random((3, 16, 16, 1)).astype(np.float32)
    before = model.predict([x, x[::-1]], verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict([x, x[::-1]], verbose=0), before, rtol=1e-6)
    assert ((before > 0) & (before < 1)).all()


@pytest.mark.parametrize("name, shape, kwargs", SMALL_TOWERS)
def test_every_tower_is_reproducible_from_its_seed_alone(name, shape, kwargs):
    from siamese_lessons.models import build_tower

    global_seeds = iter(range(100, 110))

    def weights(seed):
        keras.utils.set_random_seed(next(global_seeds))  # a different global state each time must not matter
        return [w.copy() for w in build_tower(name, shape, seed=seed, **kwargs).get_weights()]

    first, again, other = weights(0), weights(0), weights(1)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other, strict=True) if a.std() > 0)


@pytest.mark.parametrize("name, shape, kwargs", SMALL_TOWERS)
def test_every_tower_takes_stored_uint8_pixels_and_rescales_them_first(name, shape, kwargs):
    tower = build_tower(name, shape, seed=0, **kwargs)
    first = tower.layers[1]  # the layer right after the input
    assert isinstance(first, keras.layers.Rescaling) and first.name == "rescale"
    pixels = np.zeros((1, *shape), np.uint8)
    pixels[0, 0, :3, 0] = [0, 51, 255]
    scaled = np.asarray(keras.Model(tower.input, first.output)(pixels))
    np.testing.assert_allclose(scaled[0, 0, :3, 0], [0.0, 0.2, 1.0], rtol=1e-6)  # v / 255, by hand
    # uint8 and the same values as float32 give the same vector: the cast happens inside.
    np.testing.assert_array_equal(tower.predict(pixels, verbose=0),
                                  tower.predict(pixels.astype(np.float32), verbose=0))


def test_with_input_resizing_feeds_the_tower_at_its_own_size():
    from siamese_lessons.models import with_input_resizing

    tower = improved_tower((8, 8, 1), filters=(2,), convs_per_block=1, embedding_dim=3, seed=0)
    big = with_input_resizing(tower, (16, 16, 1))
    assert big.input_shape == (None, 16, 16, 1) and big.output_shape == (None, 3)
    # Area resizing of a 16x16 image whose 2x2 blocks are constant gives the 8x8 image of the blocks.
    small = np.random.default_rng(0).random((2, 8, 8, 1)).astype(np.float32)
    blocks = np.repeat(np.repeat(small, 2, axis=1), 2, axis=2)
    np.testing.assert_allclose(big.predict(blocks, verbose=0), tower.predict(small, verbose=0), atol=1e-5)
    with pytest.raises(ValueError, match="channels"):
        with_input_resizing(tower, (16, 16, 3))


def test_koch_dense_initialisation_and_convs_per_block_are_arguments():
    w = koch_tower(width=0.25, dense_stddev=0.01, seed=0).get_layer("dense").kernel.numpy()
    assert abs(w.std() - 0.01) < 0.0005
    w = koch_tower(width=0.25, seed=0).get_layer("dense").kernel.numpy()
    assert abs(w.std() - 0.2) < 0.01  # the paper's default
    with pytest.raises(ValueError, match="dense_stddev"):
        koch_tower(dense_stddev=0)
    convs = [layer for layer in improved_tower((16, 16, 1), filters=(4, 4), convs_per_block=3).layers
             if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == 6


def test_improved_tower_stops_pooling_at_one_pixel():
    tower = improved_tower((12, 12, 1), filters=(4, 4, 4, 4, 4), convs_per_block=1, embedding_dim=3)
    pools = [layer.output.shape[1:3] for layer in tower.layers
             if isinstance(layer, keras.layers.MaxPooling2D)]
    assert pools == [(6, 6), (3, 3), (1, 1)]  # 12 -> 6 -> 3 -> 1, then no pooling below 2x2
    assert tower.output_shape == (None, 3)
