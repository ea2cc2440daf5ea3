"""Keras layers of a Siamese network: distances between two embeddings.

All layers are registered for serialisation, so a model that uses them
round-trips through ``model.save`` / ``keras.models.load_model``.
"""

from __future__ import annotations

from ._tf import keras as _keras

keras = _keras()
ops = keras.ops

__all__ = ["CosineClassifier", "CosineDistance", "DISTANCES", "L1Distance", "L2Distance", "distance_layer"]

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
