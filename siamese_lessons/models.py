"""Towers (the shared half of a Siamese network) and the pair model built on them.

Every tower is a Keras 3 functional ``Model`` mapping one image to a vector, with
each hyperparameter an argument. Towers take pixels as they are stored (``uint8``,
0-255) and rescale them to [0, 1] with their first layer (``Rescaling(1 / 255)``,
named ``"rescale"``): preprocessing lives inside the model, so no input pipeline
divides by 255 and a saved tower takes raw images. :func:`siamese_pair_model` applies *the same*
tower object to both inputs (one set of weights), compares the two vectors with
a distance layer and ends in one sigmoid unit: the probability that the two
images show the same identity (label 1).
"""

from __future__ import annotations

from collections.abc import Sequence

from ._tf import keras as _keras
from .data.containers import PIXEL_MAX
from .layers import DISTANCES, distance_layer

keras = _keras()
layers = keras.layers

__all__ = [
    "TOWERS",
    "build_tower",
    "embedding_model",
    "siamese_distance_model",
    "improved_tower",
    "koch_tower",
    "lfw_seed_tower",
    "siamese_pair_model",
    "vgg_tower",
    "with_augmentation",
    "with_input_resizing",
]


def _input(shape: Sequence[int]) -> keras.KerasTensor:
    shape = tuple(int(s) for s in shape)
    if len(shape) != 3 or shape[-1] not in (1, 3) or min(shape) < 1:
        raise ValueError(f"input_shape must be (height, width, 1 or 3), got {shape}")
    return keras.Input(shape=shape, name="image")


def _rescaled(inp: keras.KerasTensor) -> keras.KerasTensor:
    """A tower's first layer: stored pixels (0-255) to [0, 1]."""
    return layers.Rescaling(1.0 / PIXEL_MAX, name="rescale")(inp)


def _scaled(n: int, width: float) -> int:
    return max(1, int(round(n * width)))


def koch_tower(
    input_shape: Sequence[int] = (105, 105, 1),
    *,
    width: float = 1.0,
    l2: float = 2e-4,
    dense_stddev: float = 0.2,
    seed: int | None = None,
) -> keras.Model:
    """The convolutional tower of Koch, Zemel and Salakhutdinov (2015).

    conv 64@10x10 ReLU, max-pool 2; conv 128@7x7 ReLU, pool; conv 128@4x4 ReLU,
    pool; conv 256@4x4 ReLU; flatten; dense 4096 sigmoid. Weights are initialised
    as in the paper by default: convolutions N(0, 0.01), dense N(0, ``dense_stddev``
    = 0.2), biases N(0.5, 0.01); every layer has an L2 penalty (the paper tuned one
    per layer; here one value).

    With the paper's 0.2 and 9,216 inputs, the dense layer's pre-activations have
    a standard deviation of several units, so most sigmoid units start saturated
    and a network trained with a modern optimiser for tens of epochs can stay at
    chance; ``dense_stddev=0.01`` keeps them in the sigmoid's linear range
    (chapter 1 measures both).

    Parameters
    ----------
    input_shape : (int, int, int), default=(105, 105, 1)
    width : float, default=1.0
        Multiplier on every filter count and on the dense size (the quick profile
        uses a narrower network; 1.0 is the paper's).
    l2 : float, default=2e-4
        L2 penalty of every layer.
    dense_stddev : float, default=0.2
        Standard deviation of the dense layer's initial weights (the paper's 0.2).
    seed : int or None
        Seed of the initialisers.

    Returns
    -------
    keras.Model
        ``image -> (4096 * width,)`` vector in (0, 1). At width 1 the tower has
        38,947,648 parameters; with the pair head, 38,951,745.
    """
    if not dense_stddev > 0:
        raise ValueError(f"dense_stddev must be positive, got {dense_stddev!r}")
    inp = _input(input_shape)
    reg = keras.regularizers.L2(l2)

    def init(std: float, mean: float = 0.0, k: int = 0):
        return keras.initializers.RandomNormal(mean=mean, stddev=std, seed=None if seed is None else seed + k)

    x = _rescaled(inp)
    spec = [(64, 10, True), (128, 7, True), (128, 4, True), (256, 4, False)]
    for k, (filters, kernel, pool) in enumerate(spec):
        x = layers.Conv2D(_scaled(filters, width), kernel, activation="relu", kernel_regularizer=reg,
                          kernel_initializer=init(1e-2, k=2 * k), bias_initializer=init(1e-2, 0.5, 2 * k + 1),
                          name=f"conv{k + 1}")(x)
        if pool:
            x = layers.MaxPooling2D(2, name=f"pool{k + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(_scaled(4096, width), activation="sigmoid", kernel_regularizer=reg,
                     kernel_initializer=init(dense_stddev, k=10), bias_initializer=init(1e-2, 0.5, 11),
                     name="dense")(x)
    return keras.Model(inp, x, name="koch_tower")


def lfw_seed_tower(
    input_shape: Sequence[int] = (250, 250, 1),
    *,
    conv_blocks: int = 2,
    filters: int = 64,
    kernel_size: int = 3,
    strides: int = 2,
    dropout: float = 0.5,
    dense_units: int = 1024,
    l2: float = 1e-4,
    seed: int | None = None,
    kernel_initializer: str | keras.initializers.Initializer | None = None,
) -> keras.Model:
    """The small CNN of the LFW seed experiment.

    ``conv_blocks`` x [Conv2D(filters, kernel_size, stride, 'valid', ReLU, L2), Dropout],
    Flatten, Dense(dense_units, sigmoid). The seed's final setting (the defaults)
    has 243,898,048 parameters at 250x250, all but 37,568 of them in the dense
    layer: 61x61x64 = 238,144 flattened features times 1,024 units. That dense
    layer is why the seed ran out of memory.

    Parameters
    ----------
    input_shape : (int, int, int), default=(250, 250, 1)
    conv_blocks, filters, kernel_size, strides, dropout, dense_units, l2
        The hyperparameters the seed swept.
    seed : int or None
        Seed of the initialisers and dropout.
    kernel_initializer : str, keras.initializers.Initializer or None, default=None
        Initialiser of the convolution and dense kernels; ``None``: Glorot uniform with
        ``seed``. ``"zeros"`` builds a tower that is only to be counted or loaded into
        without drawing its random numbers: at 250x250 the dense kernel's 244 million
        draws take seconds on a CPU, zeros a few milliseconds.
    """
    if conv_blocks < 1:
        raise ValueError(f"conv_blocks must be at least 1, got {conv_blocks}")
    inp = _input(input_shape)
    reg = keras.regularizers.L2(l2)
    init = (keras.initializers.GlorotUniform(seed=seed) if kernel_initializer is None
            else keras.initializers.get(kernel_initializer))
    x = _rescaled(inp)
    for k in range(conv_blocks):
        if min(x.shape[1], x.shape[2]) < kernel_size:
            raise ValueError(f"{conv_blocks} blocks of {kernel_size}x{kernel_size} stride {strides} do not "
                             f"fit a {input_shape[0]}x{input_shape[1]} image (block {k + 1} sees "
                             f"{x.shape[1:3]})")
        x = layers.Conv2D(filters, kernel_size, strides=strides, activation="relu", kernel_regularizer=reg,
                          kernel_initializer=init, name=f"conv{k + 1}")(x)
        x = layers.Dropout(dropout, seed=seed, name=f"dropout{k + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense_units, activation="sigmoid", kernel_regularizer=reg, kernel_initializer=init,
                     name="dense")(x)
    return keras.Model(inp, x, name="lfw_seed_tower")


def improved_tower(
    input_shape: Sequence[int] = (250, 250, 1),
    *,
    filters: Sequence[int] = (32, 64, 128, 256),
    convs_per_block: int = 2,
    embedding_dim: int = 128,
    dropout: float = 0.3,
    l2: float = 1e-4,
    seed: int | None = None,
    synchronized_bn: bool = False,
) -> keras.Model:
    """A tower that fits LFW far better than the seed's with ~1,000x fewer parameters.

    Per entry of ``filters``: ``convs_per_block`` (default two) 3x3 convolutions
    with batch normalisation and ReLU, then 2x2 max-pooling (skipped once the
    feature map is smaller than 2x2, so tiny inputs still build; global average
    pooling follows anyway). Then global average pooling (no giant dense
    layer), dropout and a linear ``Dense(embedding_dim)``.

    ``synchronized_bn=True`` computes batch-normalisation statistics over the
    global batch of all replicas of a ``tf.distribute`` strategy (TensorFlow
    backend), so every replica keeps the same moving averages; otherwise each
    replica normalises with, and averages, its own per-replica batch.
    """
    if convs_per_block < 1:
        raise ValueError(f"convs_per_block must be at least 1, got {convs_per_block}")
    inp = _input(input_shape)
    reg = keras.regularizers.L2(l2)
    init = keras.initializers.HeNormal(seed=seed)
    x = _rescaled(inp)
    for k, f in enumerate(filters):
        for j in range(convs_per_block):
            x = layers.Conv2D(f, 3, padding="same", use_bias=False, kernel_regularizer=reg,
                              kernel_initializer=init, name=f"block{k + 1}_conv{j + 1}")(x)
            x = layers.BatchNormalization(synchronized=synchronized_bn, name=f"block{k + 1}_bn{j + 1}")(x)
            x = layers.Activation("relu", name=f"block{k + 1}_relu{j + 1}")(x)
        if min(x.shape[1], x.shape[2]) >= 2:
            x = layers.MaxPooling2D(2, name=f"block{k + 1}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(dropout, seed=seed, name="dropout")(x)
    x = layers.Dense(embedding_dim, kernel_regularizer=reg,
                     kernel_initializer=keras.initializers.GlorotUniform(seed=seed), name="embedding")(x)
    return keras.Model(inp, x, name="improved_tower")


def vgg_tower(
    input_shape: Sequence[int] = (72, 72, 3),
    *,
    filters: Sequence[int] = (64, 128, 256, 512),
    convs_per_block: int = 2,
    dense_units: int = 512,
    dropout: float = 0.5,
    l2: float = 5e-4,
    seed: int | None = None,
) -> keras.Model:
    """A compact VGG-style tower (the MS-Celeb seed used a simplified VGG at 72x72).

    Blocks of ``convs_per_block`` 3x3 ReLU convolutions and a 2x2 max-pool, then
    flatten, ``Dense(dense_units, ReLU)``, dropout and a linear ``Dense(dense_units)``.
    """
    inp = _input(input_shape)
    reg = keras.regularizers.L2(l2)
    init = keras.initializers.HeNormal(seed=seed)
    x = _rescaled(inp)
    for k, f in enumerate(filters):
        for j in range(convs_per_block):
            x = layers.Conv2D(f, 3, padding="same", activation="relu", kernel_regularizer=reg,
                              kernel_initializer=init, name=f"block{k + 1}_conv{j + 1}")(x)
        x = layers.MaxPooling2D(2, name=f"block{k + 1}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense_units, activation="relu", kernel_regularizer=reg, kernel_initializer=init,
                     name="fc1")(x)
    x = layers.Dropout(dropout, seed=seed, name="dropout")(x)
    x = layers.Dense(dense_units, kernel_regularizer=reg,
                     kernel_initializer=keras.initializers.GlorotUniform(seed=seed), name="fc2")(x)
    return keras.Model(inp, x, name="vgg_tower")


def with_augmentation(tower: keras.Model, augmentation, *, fill_value: float = 0.0, seed: int | None = None,
                      name: str | None = None) -> keras.Model:
    """``tower`` with a :class:`~siamese_lessons.augmentation.RandomAffine` layer in front:
    the training images are distorted inside the model, on the device that runs it, and
    only while training (``fit``); prediction sees them unchanged.

    This is how every chapter distorts its training images (the batch sources never
    do). In a pair model built on the result, each branch draws its own distortion, as
    Koch et al. distort each image of a pair independently. The returned model calls
    ``tower`` itself, so training it trains ``tower``'s weights.

    Parameters
    ----------
    tower : keras.Model
    augmentation : Augmentation
        What to draw, e.g. :data:`~siamese_lessons.augmentation.FACE_AUGMENTATION`.
    fill_value : float
        Value of pixels shifted in from outside the image, on the stored 0-255 scale (the
        distortion acts before the tower rescales): 0 is black, 255 white paper.
    seed : int or None
        Seed of the distortions.
    name : str or None
        Default: ``"<tower name>_augmented"``.
    """
    from .augmentation import RandomAffine

    inp = _input(tower.input_shape[1:])
    x = RandomAffine(augmentation, fill_value=fill_value, seed=seed, name="augment")(inp)
    return keras.Model(inp, tower(x), name=name or f"{tower.name}_augmented")


def with_input_resizing(tower: keras.Model, input_shape: Sequence[int], *,
                        interpolation: str = "area", name: str | None = None) -> keras.Model:
    """Let ``tower`` take images of ``input_shape``: a ``Resizing`` layer to the tower's
    own input size goes first, inside the model.

    Use it to train a small tower at low resolution on a full-size image table
    (e.g. 105x105 Omniglot characters read at 35x35): the table, the pair
    pipelines and the evaluation code stay the same, and the saved model takes
    full-size images. ``"area"`` interpolation averages the pixels that shrink
    into one, so thin strokes are not lost.
    """
    inp = _input(input_shape)
    if inp.shape[-1] != tower.input_shape[-1]:
        raise ValueError(f"input_shape has {inp.shape[-1]} channels, the tower takes {tower.input_shape[-1]}")
    height, width = tower.input_shape[1:3]
    x = layers.Resizing(height, width, interpolation=interpolation, name="resize")(inp)
    return keras.Model(inp, tower(x), name=name or f"{tower.name}_at_{height}x{width}")


#: Tower builders by name.
TOWERS = {"koch": koch_tower, "lfw_seed": lfw_seed_tower, "improved": improved_tower, "vgg": vgg_tower}


def build_tower(name: str, input_shape: Sequence[int], **kwargs) -> keras.Model:
    """Build a tower by name (a key of :data:`TOWERS`) with keyword hyperparameters."""
    if name not in TOWERS:
        raise ValueError(f"unknown tower {name!r}; choose one of {sorted(TOWERS)}")
    return TOWERS[name](input_shape, **kwargs)


def siamese_pair_model(
    tower: keras.Model,
    *,
    distance: str = "l1",
    l2: float = 0.0,
    seed: int | None = None,
    name: str = "siamese_pair",
) -> keras.Model:
    """Two inputs through one tower, a distance, one sigmoid unit.

    ``p(same) = sigmoid(w . d(f(a), f(b)) + b)`` where ``f`` is ``tower`` (the
    same layer object on both sides, so both branches share every weight) and
    ``d`` is ``|f(a) - f(b)|`` for ``"l1"`` (Koch's weighted L1 distance) or a
    scalar distance for ``"l2"`` / ``"cosine"``.

    Parameters
    ----------
    tower : keras.Model
        Maps one image to a vector.
    distance : {"l1", "l2", "cosine"}, default="l1"
    l2 : float
        L2 penalty on the head's weights.
    seed : int or None
        Seed of the head's initialiser.

    Returns
    -------
    keras.Model
        Inputs ``[left, right]`` of the tower's input shape; output ``(batch, 1)``
        probability that the images show the same identity. The tower is the
        layer named ``"tower"``, the head (distance + sigmoid) the layer ``"head"``.
    """
    if distance not in DISTANCES:
        raise ValueError(f"unknown distance {distance!r}; choose one of {sorted(DISTANCES)}")
    shape = tuple(tower.input_shape[1:])
    dim = tower.output_shape[-1]
    ea = keras.Input(shape=(dim,), name="embedding_a")
    eb = keras.Input(shape=(dim,), name="embedding_b")
    d = distance_layer(distance, name=f"{distance}_distance")(ea, eb)
    out = layers.Dense(1, activation="sigmoid", kernel_regularizer=keras.regularizers.L2(l2) if l2 else None,
                       kernel_initializer=keras.initializers.RandomNormal(0.0, 0.2, seed=seed),
                       name="same_probability")(d)
    head = keras.Model([ea, eb], out, name="head")
    a = keras.Input(shape=shape, name="left")
    b = keras.Input(shape=shape, name="right")
    shared = keras.Model(tower.input, tower.output, name="tower")
    return keras.Model([a, b], head([shared(a), shared(b)]), name=name)


def embedding_model(
    tower: keras.Model,
    *,
    dim: int = 128,
    normalize: bool = True,
    seed: int | None = None,
    name: str = "embedder",
) -> keras.Model:
    """Tower, a linear projection to ``dim`` numbers and L2 normalisation.

    The model for contrastive and triplet losses: images map to points on the
    unit sphere, and the distance between two points says how alike two faces are.
    """
    x = layers.Dense(dim, kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
                     name="projection")(tower.output)
    if normalize:
        x = layers.UnitNormalization(name="l2_normalize")(x)
    return keras.Model(tower.input, x, name=name)


def siamese_distance_model(embedder: keras.Model, *, distance: str = "l2", name: str = "siamese_distance"):
    """Two inputs through one embedding model; output their distance ``(batch, 1)``.

    Train it with :class:`~siamese_lessons.losses.ContrastiveLoss` on pair labels
    (1 = same). The embedder is shared (one set of weights) and is the layer
    named after it.
    """
    if distance not in ("l2", "cosine"):
        raise ValueError(f"contrastive training needs a scalar distance: 'l2' or 'cosine', got {distance!r}")
    shape = tuple(embedder.input_shape[1:])
    a = keras.Input(shape=shape, name="left")
    b = keras.Input(shape=shape, name="right")
    d = distance_layer(distance, name=f"{distance}_distance")(embedder(a), embedder(b))
    return keras.Model([a, b], d, name=name)
