import numpy as np
import pytest

from siamese_lessons._tf import keras as _keras
from siamese_lessons.data import IdentitySet, PairSet
from siamese_lessons.datasets import identity_batch_dataset
from siamese_lessons.evaluation import embedding_pair_scores
from siamese_lessons.losses import BatchHardTripletLoss, ContrastiveLoss
from siamese_lessons.models import embedding_model, improved_tower, siamese_distance_model
from siamese_lessons.pairs import pk_batches

keras = _keras()


def _toy_identities(seed=0):
    """4 identities, 8 images each: identity k is a bright square at corner k plus noise."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 40, (32, 12, 12), dtype=np.uint8)
    labels = np.repeat(np.arange(4), 8)
    for i, k in enumerate(labels):
        r, c = divmod(int(k), 2)
        images[i, r * 6:(r + 1) * 6, c * 6:(c + 1) * 6] += 200
    return IdentitySet(images=images, labels=labels, class_names=list("abcd"))


def test_embeddings_are_unit_length_and_round_trip(tmp_path):
    embedder = embedding_model(improved_tower((12, 12, 1), filters=(4,), embedding_dim=8, seed=0), dim=5)
    x = np.random.default_rng(0).random((3, 12, 12, 1)).astype(np.float32)
    e = embedder.predict(x, verbose=0)
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, rtol=1e-5)
    embedder.save(tmp_path / "e.keras")
    loaded = keras.models.load_model(tmp_path / "e.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), e, rtol=1e-5)


def test_distance_model_outputs_the_embedding_distance():
    embedder = embedding_model(improved_tower((12, 12, 1), filters=(4,), embedding_dim=8, seed=0), dim=5)
    model = siamese_distance_model(embedder)
    x = np.random.default_rng(1).random((4, 12, 12, 1)).astype(np.float32)
    d = model.predict([x, x[::-1]], verbose=0).ravel()
    e = embedder.predict(x, verbose=0)
    np.testing.assert_allclose(d, np.linalg.norm(e - e[::-1], axis=1), atol=1e-4)
    with pytest.raises(ValueError, match="scalar distance"):
        siamese_distance_model(embedder, distance="l1")
    model.compile(optimizer="adam", loss=ContrastiveLoss(margin=1.0))  # the contrastive set-up compiles


def test_batch_hard_training_separates_identities():
    data = _toy_identities()
    keras.utils.set_random_seed(0)
    embedder = embedding_model(improved_tower((12, 12, 1), filters=(8,), embedding_dim=16, dropout=0.0,
                                              seed=0), dim=8, seed=0)
    embedder.compile(optimizer=keras.optimizers.Adam(3e-3), loss=BatchHardTripletLoss(margin=0.3))
    batches = pk_batches(data, p=4, k=4, n_batches=60, seed=0)
    ds = identity_batch_dataset(data.images, data.labels, batches)
    history = embedder.fit(ds, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    pairs = PairSet(images=data.images, pairs=[[0, 1], [8, 9], [0, 8], [16, 24]], labels=[1, 1, 0, 0],
                    identities=data.identities, paths=[str(i) for i in range(32)])
    scores = embedding_pair_scores(embedder, pairs)
    assert min(scores[:2]) > max(scores[2:])  # same-identity pairs are closer than different ones
