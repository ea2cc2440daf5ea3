"""siamese_lessons._tf: TensorFlow imported quietly, and its logger hushed for a block."""

import logging

import pytest

from siamese_lessons._tf import quiet_tf_logger, tensorflow


def test_quiet_tf_logger_raises_the_level_for_the_block_and_restores_it():
    logger = tensorflow().get_logger()
    before = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with quiet_tf_logger():
            assert logger.level == logging.ERROR
            assert not logger.isEnabledFor(logging.WARNING)
        assert logger.level == logging.WARNING
        with pytest.raises(RuntimeError), quiet_tf_logger():
            raise RuntimeError("inside")
        assert logger.level == logging.WARNING  # restored after an error too
    finally:
        logger.setLevel(before)
