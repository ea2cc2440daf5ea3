"""Export an embedding model to TFLite (LiteRT) for phones, and check it against Keras.

The Android seed's goal was a face-verification model on a phone.
:func:`export_tflite` writes a ``.tflite`` flat buffer (float32, or post-training
float16 / int8 quantised); :func:`check_tflite_parity` runs it with the TFLite interpreter and compares
its embeddings with the Keras model's on the same images.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from pathlib import Path

import numpy as np

from ._tf import quiet_tf_logger, tensorflow

__all__ = ["QUANTIZATIONS", "TFLiteModel", "check_tflite_parity", "export_tflite", "tflite_latency",
           "tflite_predict"]


#: Post-training quantisations :func:`export_tflite` offers (``None``: float32).
QUANTIZATIONS = ("float16", "int8")


def export_tflite(model, path: str | os.PathLike, *, quantization: str | None = None,
                  representative: np.ndarray | None = None) -> Path:
    """Write ``model`` (one image input) as a TFLite flat buffer at ``path``.

    The model is saved as a TensorFlow SavedModel and converted with
    ``tf.lite.TFLiteConverter``. The batch dimension stays dynamic; input and output
    stay float32 whatever the quantisation, so the file is a drop-in replacement.

    Parameters
    ----------
    model : keras.Model
    path : path-like
        Ends in ``.tflite``.
    quantization : {None, "float16", "int8"}
        ``None``: float32 weights (what :func:`check_tflite_parity` can hold to float
        rounding). ``"float16"``: weights stored as float16 (half the size).
        ``"int8"``: weights and activations in 8-bit integers, their ranges calibrated
        on ``representative`` (about a quarter of the size).
    representative : numpy.ndarray or None
        ``int8`` only: typical inputs ``(n, H, W, C)`` in the model's own input
        range (a hundred or so training images).

    Returns
    -------
    pathlib.Path
    """
    import tempfile

    tf = tensorflow()
    path = Path(path)
    if path.suffix != ".tflite":
        raise ValueError(f"a TFLite file should end in .tflite, got {path}")
    if len(model.inputs) != 1:
        raise ValueError(f"export the embedding model (one image input), not a model with "
                         f"{len(model.inputs)} inputs")
    if quantization is not None and quantization not in QUANTIZATIONS:
        raise ValueError(f"unknown quantization {quantization!r}; "
                         f"choose None or one of {list(QUANTIZATIONS)}")
    if (quantization == "int8") != (representative is not None):
        raise ValueError("int8 quantization needs representative images, and only int8 uses them")
    if representative is not None:
        representative = np.asarray(representative, dtype=np.float32)
        expected = tuple(model.input_shape[1:])
        if representative.ndim != len(expected) + 1 or representative.shape[1:] != expected or not len(
                representative):
            raise ValueError(f"representative images must have shape (n, {', '.join(map(str, expected))}), "
                             f"got {representative.shape}")
    path.parent.mkdir(parents=True, exist_ok=True)
    # quiet: the converter's "Assets written to <tmp>" lines say nothing to act on
    with quiet_tf_logger(), tempfile.TemporaryDirectory() as tmp:
        model.export(tmp, format="tf_saved_model", verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        if quantization is not None:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantization == "float16":
            converter.target_spec.supported_types = [tf.float16]
        if quantization == "int8":
            converter.representative_dataset = lambda: ([image[None]] for image in representative)
        with _native_stderr_silenced():
            flat = converter.convert()
    tmp_path = path.with_name(path.name + ".partial")
    tmp_path.write_bytes(flat)
    tmp_path.replace(path)
    return path


def tflite_latency(path: str | os.PathLike, image: np.ndarray, *, runs: int = 200, warmup: int = 10) -> float:
    """Median seconds one call of a TFLite model takes on one image, on this machine's CPU.

    Parameters
    ----------
    path : path-like
    image : numpy.ndarray
        One input ``(H, W, C)``: pixels as the model takes them (0-255, ``uint8`` or float).
    runs, warmup : int
        Timed calls (the median is returned) and untimed calls first.
    """
    import time

    if runs < 1 or warmup < 0:
        raise ValueError(f"runs must be positive and warmup non-negative, got {runs} and {warmup}")
    interp = _opened(path)
    batch, index = _ready(interp, np.asarray(image, dtype=np.float32)[None])
    times = []
    for i in range(warmup + runs):
        start = time.perf_counter()
        interp.set_tensor(index, batch)
        interp.invoke()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return float(np.median(times))


@contextlib.contextmanager
def _native_stderr_silenced():
    """Send what C++ code writes to the process's stderr (the TFLite converter's and
    interpreter's INFO lines) to nowhere; Python errors still raise as usual."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no usable file descriptor 2: nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _interpreter(path: str):
    with _native_stderr_silenced():
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
        ``(n, H, W, C)`` pixels as the model takes them (0-255, ``uint8`` or float; the
        course's towers rescale inside), in the model's input shape.

    Returns
    -------
    numpy.ndarray
        The model's output for the batch.
    """
    return _invoke(_opened(path), images)


def _opened(path: str | os.PathLike):
    if not Path(path).is_file():
        raise FileNotFoundError(f"no TFLite model at {path}")
    interp = _interpreter(str(path))
    with _native_stderr_silenced():
        interp.allocate_tensors()
    return interp


def _ready(interp, images) -> tuple[np.ndarray, int]:
    """``images`` as float32, checked against the model's input and with the interpreter
    sized for them; returns them and the input's tensor index."""
    images = np.asarray(images, dtype=np.float32)
    inp = interp.get_input_details()[0]
    expected = tuple(inp["shape_signature"][1:])
    if images.ndim != len(inp["shape_signature"]) or tuple(images.shape[1:]) != expected:
        raise ValueError(f"images must have shape (n, {', '.join(map(str, expected))}), got {images.shape}")
    if tuple(inp["shape"]) != images.shape:
        interp.resize_tensor_input(inp["index"], images.shape)
        with _native_stderr_silenced():
            interp.allocate_tensors()
    return images, inp["index"]


def _invoke(interp, images) -> np.ndarray:
    images, index = _ready(interp, images)
    interp.set_tensor(index, images)
    interp.invoke()
    return interp.get_tensor(interp.get_output_details()[0]["index"]).copy()


class TFLiteModel:
    """A TFLite file that answers like a Keras model where the course needs it:
    ``input_shape``, ``predict_on_batch`` and ``predict``, so
    :func:`~siamese_lessons.evaluation.embed_images` and the scoring functions take it.

    Parameters
    ----------
    path : path-like
        A file written by :func:`export_tflite`.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._interp = _opened(self.path)  # one interpreter for every batch
        signature = self._interp.get_input_details()[0]["shape_signature"]
        self.input_shape = (None, *(int(d) for d in signature[1:]))

    def predict_on_batch(self, images) -> np.ndarray:
        return _invoke(self._interp, images)

    def predict(self, images, verbose: int = 0) -> np.ndarray:  # noqa: ARG002 - Keras's signature
        return _invoke(self._interp, images)


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
