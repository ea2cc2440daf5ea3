"""siamese_lessons.export: TFLite files, float and quantised, against Keras."""

import numpy as np
import pytest

from siamese_lessons.export import check_tflite_parity, export_tflite, tflite_latency, tflite_predict
from siamese_lessons.models import build_tower, embedding_model


@pytest.fixture(scope="module")
def model():
    return embedding_model(build_tower("improved", (16, 16, 1), filters=(4, 8), seed=0), dim=8, seed=0)


def test_tflite_export_matches_keras(model, tmp_path):
    path = export_tflite(model, tmp_path / "e.tflite")
    images = np.random.default_rng(0).random((3, 16, 16, 1), dtype=np.float32)
    assert tflite_predict(path, images).shape == (3, 8)
    assert check_tflite_parity(model, path, images) < 1e-5
    assert not list(tmp_path.glob("*.partial"))
    with pytest.raises(ValueError, match="shape"):
        tflite_predict(path, images[..., 0])
    with pytest.raises(ValueError, match=".tflite"):
        export_tflite(model, tmp_path / "e.bin")


def test_quantised_files_are_smaller_and_close_to_keras(model, tmp_path):
    rng = np.random.default_rng(1)
    images = rng.random((16, 16, 16, 1), dtype=np.float32)
    sizes, errors = {}, {}
    for q in (None, "float16", "int8"):
        path = export_tflite(model, tmp_path / f"{q}.tflite", quantization=q,
                             representative=images if q == "int8" else None)
        sizes[q] = path.stat().st_size
        # Unit-length embeddings: an error of 0.1 would move a point a tenth of the way round.
        errors[q] = float(np.abs(tflite_predict(path, images) - model.predict(images, verbose=0)).max())
    assert errors[None] < 1e-5 and errors["float16"] < 1e-2 and errors["int8"] < 0.1, errors
    # Weights are a small part of so tiny a model, so only the order is certain here.
    assert sizes["int8"] < sizes["float16"] < sizes[None], sizes
    with pytest.raises(ValueError, match="representative"):
        export_tflite(model, tmp_path / "x.tflite", quantization="int8")
    with pytest.raises(ValueError, match="representative"):
        export_tflite(model, tmp_path / "x.tflite", quantization="float16", representative=images)
    with pytest.raises(ValueError, match="float16"):
        export_tflite(model, tmp_path / "x.tflite", quantization="int4")
    with pytest.raises(ValueError, match=r"\(n, 16, 16, 1\)"):
        export_tflite(model, tmp_path / "x.tflite", quantization="int8", representative=images[..., 0])


def test_tflite_latency_is_a_positive_median(model, tmp_path):
    path = export_tflite(model, tmp_path / "e.tflite")
    image = np.zeros((16, 16, 1), np.float32)
    assert 0 < tflite_latency(path, image, runs=5, warmup=1) < 1.0
    with pytest.raises(ValueError, match="shape"):
        tflite_latency(path, np.zeros((8, 8, 1), np.float32))
    with pytest.raises(ValueError, match="runs"):
        tflite_latency(path, image, runs=0)
    with pytest.raises(FileNotFoundError):
        tflite_latency(tmp_path / "none.tflite", image)
