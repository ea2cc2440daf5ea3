"""siamese_lessons.layers: distances and the cosine classifier head."""

import numpy as np
import pytest

from siamese_lessons._tf import keras as _keras
from siamese_lessons.layers import CosineDistance, L1Distance, L2Distance, distance_layer

keras = _keras()

A = np.array([[1.0, 2.0, 2.0], [0.0, 3.0, 4.0]], np.float32)
B = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]], np.float32)


def test_distances_against_hand_values():
    np.testing.assert_allclose(L1Distance()(A, B), [[0, 2, 2], [0, 3, 4]])
    np.testing.assert_allclose(L2Distance()(A, B), [[np.sqrt(8)], [5.0]], rtol=1e-6)
    # cos(a, b) for row 0: 1 / (3 * 1) -> distance 2/3; row 1: b = 0 -> cos 0 -> distance 1
    np.testing.assert_allclose(CosineDistance()(A, B), [[2 / 3], [1.0]], rtol=1e-5)
    with pytest.raises(ValueError, match="cosine"):
        distance_layer("manhattan")


def test_cosine_classifier_returns_cosines_to_the_class_directions():
    from siamese_lessons.layers import CosineClassifier

    layer = CosineClassifier(2)
    layer.build((None, 2))
    layer.kernel.assign(np.array([[2.0, 0.0], [0.0, -3.0]], np.float32))  # directions (1, 0) and (0, -1)
    x = np.array([[3.0, 4.0], [0.0, 0.0]], np.float32)
    # Row 0: |x| = 5, cos to (1, 0) = 3/5, to (0, -1) = -4/5; a zero row gives 0, not NaN.
    np.testing.assert_allclose(layer(x), [[0.6, -0.8], [0.0, 0.0]], atol=1e-6)
    with pytest.raises(ValueError, match="units"):
        CosineClassifier(0)
