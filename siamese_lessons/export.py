"""Export an embedding model to TFLite (LiteRT) for phones, and check it against Keras.

The Android seed's goal was a face-verification model on a phone. Keras 3
writes a ``.tflite`` flat buffer with ``model.export(path, format="litert")``;
:func:`check_tflite_parity` runs it with the TFLite interpreter and compares
its embeddings with the Keras model's on the same images.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from ._tf import tensorflow

__all__ = ["check_tflite_parity", "export_tflite", "tflite_predict"]


def export_tflite(model, path: str | os.PathLike) -> Path:
    """Write ``model`` (one image input) as a TFLite flat buffer at ``path``.

    The batch dimension stays dynamic; weights stay float32 (no quantisation,
    so :func:`check_tflite_parity` can hold it to float rounding).

    Returns
    -------
    pathlib.Path
    """
    tensorflow()
    path = Path(path)
    if path.suffix != ".tflite":
        raise ValueError(f"a TFLite file should end in .tflite, got {path}")
    if len(model.inputs) != 1:
        raise ValueError(f"export the embedding model (one image input), not a model with "
                         f"{len(model.inputs)} inputs")
    path.parent.mkdir(parents=True, exist_ok=True)
    logger = tensorflow().get_logger()
    level = logger.level
    logger.setLevel("ERROR")  # the converter's "Assets written to <tmp>" lines say nothing to act on
    try:
        model.export(str(path), format="litert", verbose=False)
    finally:
        logger.setLevel(level)
    return path


def _interpreter(path: str):
    try:  # the maintained interpreter, where installed
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated.*")
            return tensorflow().lite.Interpreter(model_path=path)
    return Interpreter(model_path=path)


def tflite_predict(path: str | os.PathLike, images: np.ndarray) -> np.ndarray:
    """Run a TFLite model on a batch of images.

    Parameters
    ----------
    path : path-like
        A file written by :func:`export_tflite`.
    images : numpy.ndarray
        ``(n, H, W, C)`` float32, the model's input shape.

    Returns
    -------
    numpy.ndarray
        The model's output for the batch.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"no TFLite model at {path}")
    images = np.asarray(images, dtype=np.float32)
    interp = _interpreter(str(path))
    inp = interp.get_input_details()[0]
    expected = tuple(inp["shape_signature"][1:])
    if images.ndim != len(inp["shape_signature"]) or tuple(images.shape[1:]) != expected:
        raise ValueError(f"images must have shape (n, {', '.join(map(str, expected))}), got {images.shape}")
    interp.resize_tensor_input(inp["index"], images.shape)
    interp.allocate_tensors()
    interp.set_tensor(inp["index"], images)
    interp.invoke()
    return interp.get_tensor(interp.get_output_details()[0]["index"]).copy()


def check_tflite_parity(model, path: str | os.PathLike, images: np.ndarray, *, atol: float = 1e-4) -> float:
    """Largest absolute difference between TFLite and Keras outputs on ``images``.

    Raises
    ------
    AssertionError
        If it exceeds ``atol`` (the export changed what the model computes).
    """
    images = np.asarray(images, dtype=np.float32)
    expected = np.asarray(model.predict(images, verbose=0))
    got = tflite_predict(path, images)
    error = float(np.max(np.abs(got - expected)))
    if not error <= atol:
        raise AssertionError(f"TFLite output differs from Keras by {error:.3g} (> {atol}) on "
                             f"{len(images)} images")
    return error
