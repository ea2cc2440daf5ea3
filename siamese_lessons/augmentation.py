"""Random distortions of training images: what they are and the one layer that applies them.

An :class:`Augmentation` says which distortions to draw (Koch et al.'s affine
ones for characters, flips and small shifts for faces); :class:`RandomAffine`
draws and applies them inside a model, with ``keras.ops`` on every backend and on
the device that runs the model, and only while it trains. Pipelines never distort:
:func:`~siamese_lessons.models.with_augmentation` puts the layer in front of a
tower, and every chapter trains through it.
"""

from __future__ import annotations

import dataclasses
import math

from ._tf import keras as _keras

keras = _keras()
ops = keras.ops

__all__ = ["FACE_AUGMENTATION", "FLIP", "KOCH_AFFINE", "Augmentation", "RandomAffine", "affine_transforms"]

_PACKAGE = "siamese_lessons"


@dataclasses.dataclass(frozen=True)
class Augmentation:
    """Random distortions applied independently to each image of a pair.

    Each distortion is applied with probability ``p`` (else left out); the
    defaults are Koch et al.'s affine distortions.

    Attributes
    ----------
    rotation : float
        Maximum rotation, degrees (uniform in ``[-rotation, rotation]``).
    shear : float
        Maximum shear (uniform in ``[-shear, shear]``, per axis).
    scale : (float, float)
        Range of the zoom factor, per axis.
    translation : float
        Maximum shift, pixels, per axis.
    flip : bool
        Horizontal flip with probability ``p`` (faces, not characters).
    p : float
        Probability of each distortion.
    """

    rotation: float = 10.0
    shear: float = 0.3
    scale: tuple[float, float] = (0.8, 1.2)
    translation: float = 2.0
    flip: bool = False
    p: float = 0.5

    def __post_init__(self) -> None:
        if not 0 <= self.p <= 1:
            raise ValueError(f"p must be in [0, 1], got {self.p}")
        if self.scale[0] <= 0 or self.scale[0] > self.scale[1]:
            raise ValueError(f"scale must be (low, high) with 0 < low <= high, got {self.scale}")
        if min(self.rotation, self.shear, self.translation) < 0:
            raise ValueError("rotation, shear and translation must be non-negative")

    @property
    def has_affine(self) -> bool:
        """True when rotation, shear, translation or scaling can move pixels."""
        return bool(self.rotation or self.shear or self.translation or self.scale != (1.0, 1.0))

    @property
    def is_identity(self) -> bool:
        """True when no distortion can change an image."""
        return self.p == 0 or (self.rotation == self.shear == self.translation == 0
                               and self.scale == (1.0, 1.0) and not self.flip)


#: Koch et al. (2015): rotation +-10 deg, shear +-0.3, scale 0.8-1.2, shift +-2 px, each with p = 0.5.
KOCH_AFFINE = Augmentation()
#: Distortions for face training images: flips, small rotations, zooms and shifts.
FACE_AUGMENTATION = Augmentation(rotation=5.0, shear=0.0, scale=(0.95, 1.05), translation=4.0, flip=True,
                                 p=0.5)
#: Horizontal flips only (for faces).
FLIP = Augmentation(rotation=0.0, shear=0.0, scale=(1.0, 1.0), translation=0.0, flip=True)


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
    :class:`Augmentation` (each on with probability ``p``:
    rotation, shear, zoom, shift, and a horizontal flip where ``flip``) and applies
    them with one batched ``keras.ops.image.affine_transform`` (bilinear). It acts only
    when called with ``training=True`` (``fit``); ``predict`` and evaluation see the
    images unchanged. Being a layer, it runs where the model runs, on the GPU too,
    with ``keras.ops`` on every backend.

    Parameters
    ----------
    augmentation : Augmentation
    fill_value : float
        Value of pixels shifted in from outside the image, on the scale of the images it
        distorts (the towers take 0-255 pixels, so 255.0 is white paper).
    seed : int or None
    """

    def __init__(self, augmentation=None, fill_value: float = 0.0, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
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
            rad = aug.rotation * math.pi / 180.0
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
        return {**super().get_config(), "augmentation": dataclasses.asdict(self.augmentation),
                "fill_value": self.fill_value, "seed": self.seed}
