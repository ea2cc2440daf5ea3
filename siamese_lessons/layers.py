"""Keras layers of a Siamese network: distances between two embeddings.

All layers are registered for serialisation, so a model that uses them
round-trips through ``model.save`` / ``keras.models.load_model``.
"""

from __future__ import annotations

from ._tf import keras as _keras

keras = _keras()
ops = keras.ops

__all__ = ["CosineClassifier", "CosineDistance", "DISTANCES", "L1Distance", "L2Distance", "RandomAffine",
           "affine_transforms", "distance_layer"]

_PACKAGE = "siamese_lessons"


@keras.saving.register_keras_serializable(package=_PACKAGE)
class L1Distance(keras.layers.Layer):
    """Component-wise absolute difference ``|a - b|`` (a vector, as in Koch et al.).

    A following ``Dense(1)`` learns the weight of each component: the paper's
    weighted L1 distance.
    """

    def call(self, a, b):
        return ops.abs(a - b)

    def compute_output_shape(self, a_shape, b_shape):
        return a_shape


@keras.saving.register_keras_serializable(package=_PACKAGE)
class L2Distance(keras.layers.Layer):
    """Euclidean distance ``||a - b||``, shape ``(batch, 1)``.

    Parameters
    ----------
    epsilon : float
        Added under the square root so the gradient at ``a == b`` is finite.
    """

    def __init__(self, epsilon: float = 1e-9, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, a, b):
        return ops.sqrt(ops.sum(ops.square(a - b), axis=-1, keepdims=True) + self.epsilon)

    def compute_output_shape(self, a_shape, b_shape):
        return (a_shape[0], 1)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class CosineDistance(keras.layers.Layer):
    """Cosine distance ``1 - cos(a, b)`` in ``[0, 2]``, shape ``(batch, 1)``."""

    def __init__(self, epsilon: float = 1e-9, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, a, b):
        dot = ops.sum(a * b, axis=-1, keepdims=True)
        norm = ops.norm(a, axis=-1, keepdims=True) * ops.norm(b, axis=-1, keepdims=True)
        return 1.0 - dot / (norm + self.epsilon)

    def compute_output_shape(self, a_shape, b_shape):
        return (a_shape[0], 1)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


#: Distance names accepted by :func:`distance_layer` and the model builders.
DISTANCES = {"l1": L1Distance, "l2": L2Distance, "cosine": CosineDistance}


def distance_layer(kind: str, **kwargs) -> keras.layers.Layer:
    """Return a new distance layer by kind: ``"l1"``, ``"l2"`` or ``"cosine"``.

    Keyword arguments (e.g. ``name``) go to the layer's constructor.
    """
    if kind not in DISTANCES:
        raise ValueError(f"unknown distance {kind!r}; choose one of {sorted(DISTANCES)}")
    return DISTANCES[kind](**kwargs)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class CosineClassifier(keras.layers.Layer):
    """Cosine similarity of each input to ``units`` learned class directions.

    ``cos_j = <x / ||x||, w_j / ||w_j||>``, shape ``(batch, units)``, in ``[-1, 1]``:
    the head of normalised-softmax (NormFace), CosFace and ArcFace training. It has
    no bias, so a class is only a direction; train it with
    :class:`~siamese_lessons.losses.MarginSoftmaxLoss`, then drop it and compare the
    embeddings that feed it by their cosine.

    Parameters
    ----------
    units : int
        Number of classes.
    epsilon : float
        Added to the norms so a zero vector gives 0, not NaN.
    seed : int or None
        Seed of the class directions' initialiser.
    """

    def __init__(self, units: int, epsilon: float = 1e-9, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if int(units) < 1:
            raise ValueError(f"units must be a positive number of classes, got {units!r}")
        self.units, self.epsilon, self.seed = int(units), float(epsilon), seed

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(int(input_shape[-1]), self.units), name="kernel",
                                      initializer=keras.initializers.GlorotUniform(seed=self.seed))

    def call(self, x):
        x = x / (ops.norm(x, axis=-1, keepdims=True) + self.epsilon)
        w = self.kernel / (ops.norm(self.kernel, axis=0, keepdims=True) + self.epsilon)
        return ops.matmul(x, w)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "epsilon": self.epsilon, "seed": self.seed}


def affine_transforms(theta, shear_x, shear_y, scale_x, scale_y, shift_x, shift_y, height: int, width: int):
    """Per-image affine transforms in the 8-number output-to-input form that
    ``keras.ops.image.affine_transform`` (and TensorFlow's projective transform) take.

    The distortion is ``A = R(theta) @ Shear(shear_x, shear_y) @ Scale(scale_x, scale_y)``
    about the image centre, then a shift; the transform maps each *output* pixel
    ``(x, y)`` to the input pixel it reads, ``A^-1 ((x, y) - centre - shift) + centre``.
    Every argument is a ``(n,)`` tensor (radians, factors, pixels); ``keras.ops`` only,
    so it runs on every backend and on the accelerator.

    Returns
    -------
    tensor, shape (n, 8)
    """
    cos, sin = ops.cos(theta), ops.sin(theta)
    # linear = R @ Sh @ S, written out: [[a, b], [c, d]]
    a = (cos - sin * shear_y) * scale_x
    b = (cos * shear_x - sin) * scale_y
    c = (sin + cos * shear_y) * scale_x
    d = (sin * shear_x + cos) * scale_y
    det = a * d - b * c
    ia, ib, ic, id_ = d / det, -b / det, -c / det, a / det
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    ux, uy = cx + shift_x, cy + shift_y
    zeros = ops.zeros_like(theta)
    return ops.stack([ia, ib, cx - (ia * ux + ib * uy), ic, id_, cy - (ic * ux + id_ * uy), zeros, zeros],
                     axis=-1)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class RandomAffine(keras.layers.Layer):
    """Random flips and affine distortions of every image, inside the model.

    Draws, per image and per call, the distortions of an
    :class:`~siamese_lessons.datasets.Augmentation` (each on with probability ``p``:
    rotation, shear, zoom, shift, and a horizontal flip where ``flip``) and applies
    them with one batched ``keras.ops.image.affine_transform`` (bilinear). It acts only
    when called with ``training=True`` (``fit``); ``predict`` and evaluation see the
    images unchanged. Being a layer, it runs where the model runs, on the GPU too,
    with ``keras.ops`` on every backend.

    Parameters
    ----------
    augmentation : Augmentation
    fill_value : float
        Value of pixels shifted in from outside the image (1.0: white paper).
    seed : int or None
    """

    def __init__(self, augmentation=None, fill_value: float = 0.0, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        from .datasets import KOCH_AFFINE, Augmentation

        if augmentation is None:
            augmentation = KOCH_AFFINE
        elif isinstance(augmentation, dict):  # from get_config
            augmentation = Augmentation(**{**augmentation, "scale": tuple(augmentation["scale"])})
        if not isinstance(augmentation, Augmentation):
            raise TypeError(f"augmentation must be an Augmentation, got {type(augmentation).__name__}")
        self.augmentation, self.fill_value, self.seed = augmentation, float(fill_value), seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def _uniform(self, n, low, high):
        return keras.random.uniform((n,), low, high, seed=self.seed_generator)

    def _gated(self, n, low, high, neutral):
        keep = keras.random.uniform((n,), seed=self.seed_generator) < self.augmentation.p
        return ops.where(keep, self._uniform(n, low, high), neutral)

    def call(self, images, training=None):
        aug = self.augmentation
        if not training or aug.is_identity:
            return images
        n = ops.shape(images)[0]
        height, width = images.shape[1], images.shape[2]
        if aug.flip:
            flip = keras.random.uniform((n,), seed=self.seed_generator) < aug.p
            images = ops.where(ops.reshape(flip, (-1, 1, 1, 1)), ops.flip(images, axis=2), images)
        if aug.has_affine:
            rad = aug.rotation * 3.141592653589793 / 180.0
            theta = self._gated(n, -rad, rad, 0.0)
            shear_on = keras.random.uniform((n,), seed=self.seed_generator) < aug.p
            shear_x = ops.where(shear_on, self._uniform(n, -aug.shear, aug.shear), 0.0)
            shear_y = ops.where(shear_on, self._uniform(n, -aug.shear, aug.shear), 0.0)
            zoom_on = keras.random.uniform((n,), seed=self.seed_generator) < aug.p
            scale_x = ops.where(zoom_on, self._uniform(n, *aug.scale), 1.0)
            scale_y = ops.where(zoom_on, self._uniform(n, *aug.scale), 1.0)
            shift_on = keras.random.uniform((n,), seed=self.seed_generator) < aug.p
            shift_x = ops.where(shift_on, self._uniform(n, -aug.translation, aug.translation), 0.0)
            shift_y = ops.where(shift_on, self._uniform(n, -aug.translation, aug.translation), 0.0)
            transforms = affine_transforms(theta, shear_x, shear_y, scale_x, scale_y, shift_x, shift_y,
                                           height, width)
            images = ops.image.affine_transform(images, ops.cast(transforms, "float32"),
                                                interpolation="bilinear", fill_mode="constant",
                                                fill_value=self.fill_value)
        return images

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        import dataclasses

        return {**super().get_config(), "augmentation": dataclasses.asdict(self.augmentation),
                "fill_value": self.fill_value, "seed": self.seed}
