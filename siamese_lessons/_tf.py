"""Import TensorFlow once, without the C++ start-up lines it writes to stderr.

TensorFlow 2.21 prints oneDNN/CUDA notices (and, on machines without a GPU, a
``cuInit`` error) straight to file descriptor 2 while it loads and first looks
for devices, before its log level applies; in a notebook they appear as red
output in every chapter. Python exceptions are unaffected. Set
``TF_CPP_MIN_LOG_LEVEL`` to 0 or 1 yourself to see the lines again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from types import ModuleType

_USER_LEVEL = os.environ.get("TF_CPP_MIN_LOG_LEVEL")


@contextlib.contextmanager
def _muted_fd2():
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


@contextlib.contextmanager
def quiet_tf_logger(level: str = "ERROR"):
    """Raise TensorFlow's Python logger to ``level`` for the block, then put it back: for
    notices that name temporary files or deprecated internals and say nothing to act on."""
    logger = tensorflow().get_logger()
    saved = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(saved)


class _NoRetracingNotice(logging.Filter):
    """Drops TensorFlow's "triggered tf.function retracing" notice.

    Scoring many freshly built models (a sweep) retraces by design; the notice
    says nothing a reader can act on.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def tensorflow() -> ModuleType:
    """Return the ``tensorflow`` module, importing it quietly the first time."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    if _USER_LEVEL in ("0", "1"):
        import tensorflow as tf

        return tf
    with _muted_fd2():
        import tensorflow as tf

        tf.config.list_physical_devices()  # device discovery prints the cuInit line
    tf.get_logger().addFilter(_NoRetracingNotice())
    return tf


def backend_name() -> str:
    """The Keras backend this process will use (``KERAS_BACKEND``, default ``"tensorflow"``).

    Read from the environment so that it is known before Keras is imported; once
    Keras is loaded, its own answer wins.
    """
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    return os.environ.get("KERAS_BACKEND", "tensorflow")


def keras() -> ModuleType:
    """Return the ``keras`` module (after importing TensorFlow quietly, on its backend).

    With ``KERAS_BACKEND=jax`` TensorFlow is not imported at all: models,
    losses and the NumPy input pipelines of :mod:`siamese_lessons.datasets` run
    on JAX (tested). ``torch`` takes the same path but is not tested.
    """
    if backend_name() == "tensorflow":
        tensorflow()
    import keras as _keras

    return _keras


def gpu_count() -> int:
    """Number of GPUs the active Keras backend can use."""
    name = backend_name()
    if name == "tensorflow":
        return len(tensorflow().config.list_physical_devices("GPU"))
    if name == "jax":
        import jax

        return sum(d.platform == "gpu" for d in jax.devices())
    if name == "torch":
        import torch

        return torch.cuda.device_count()
    return 0
