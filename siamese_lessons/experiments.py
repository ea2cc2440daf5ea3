"""The course's experiments as functions: build, train with the best epoch chosen
on validation, and score on held-out data with a threshold chosen on validation.

Chapters call these step by step; the benchmark scripts call the same functions
with full-profile sizes, so a number in ``benchmarks/results`` comes from the
code the chapter shows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from .data.containers import PairSet
from .datasets import Augmentation
from .evaluation import accuracy_at, best_threshold, pair_scores, roc_auc
from .losses import mined_triplet_loss
from .models import build_tower, siamese_pair_model
from .training import FitResult, TimeLimit, compile_pair_model, fit_pair_model

__all__ = [
    "LFW_SEED_SPLIT",
    "LFW_STEPS",
    "LFWStep",
    "PairExperiment",
    "build_pair_model",
    "FACE_AUGMENTATION",
    "face_embedder",
    "lfw_embedding_data",
    "lfw_step_data",
    "train_contrastive",
    "train_triplet",
    "lfw_view1",
    "run_lfw_step",
    "score_pair_model",
    "summarize_lfw_record",
    "train_pair_model",
]


def _input_shape(images: np.ndarray) -> tuple[int, ...]:
    """Model input shape of a ``uint8`` table: ``(H, W, 1)`` for grey ``(n, H, W)``, else ``(H, W, 3)``."""
    return (*images.shape[1:], 1) if images.ndim == 3 else tuple(images.shape[1:])


@dataclasses.dataclass
class PairExperiment:
    """A trained pair model and how it scored.

    Attributes
    ----------
    model : keras.Model
    fit : FitResult
        History, best (validation) epoch, time.
    threshold : float
        Chosen on the validation pairs.
    metrics : dict
        ``val_accuracy`` (at the threshold), ``test_accuracy``, ``test_auc``,
        ``best_epoch``, ``epochs_run``, ``train_seconds``, ``parameters``.
    test_scores : numpy.ndarray or None
        Score of each test pair.
    test_set : PairSet or None
        The test pairs' set, and ``test_index`` the pairs of it that were scored.
    test_index : numpy.ndarray or None
    """

    model: Any
    fit: FitResult
    threshold: float
    metrics: dict[str, float]
    test_scores: np.ndarray | None
    test_set: PairSet | None = None
    test_index: np.ndarray | None = None

    @property
    def test_labels(self) -> np.ndarray:
        """Label of each scored test pair (same order as ``test_scores``)."""
        if self.test_set is None:
            raise ValueError("this experiment was not scored on test pairs")
        return self.test_set.labels[self.test_index]

    @property
    def test_correct(self) -> np.ndarray:
        """Boolean per test pair: classified right at the validation threshold."""
        if self.test_scores is None:
            raise ValueError("this experiment was not scored on test pairs")
        return (self.test_scores >= self.threshold) == (self.test_labels == 1)


def score_pair_model(
    model, validation: tuple[PairSet, np.ndarray], test: tuple[PairSet, np.ndarray] | None
) -> tuple[float, dict[str, float], np.ndarray | None]:
    """Pick the accuracy-maximising threshold on validation, then score the test pairs with it.

    Returns
    -------
    threshold, metrics, test_scores
    """
    vset, vidx = validation
    vscores = pair_scores(model, vset, vidx)
    threshold, val_acc = best_threshold(vscores, vset.labels[vidx])
    metrics = {"val_accuracy": val_acc}
    tscores = None
    if test is not None:
        tset, tidx = test
        tscores = pair_scores(model, tset, tidx)
        labels = tset.labels[tidx]
        metrics["test_accuracy"] = accuracy_at(tscores, labels, threshold)
        metrics["test_auc"] = roc_auc(tscores, labels)[3]
    return threshold, metrics, tscores


def build_pair_model(tower: str, input_shape, *, tower_kwargs: Mapping[str, Any] | None = None,
                     distance: str = "l1", optimizer: str = "adam", learning_rate: float = 6e-5,
                     seed: int = 0):
    """A compiled, untrained pair model: ``tower`` (a name from
    :data:`~siamese_lessons.models.TOWERS`) with ``tower_kwargs``, ``distance`` and a
    sigmoid head. Built twice with the same seed it has the same weights, which is
    how a trained model's *untrained twin* is made."""
    import keras

    keras.utils.set_random_seed(seed)
    net = build_tower(tower, input_shape, seed=seed, **dict(tower_kwargs or {}))
    model = siamese_pair_model(net, distance=distance, seed=seed)
    compile_pair_model(model, optimizer=optimizer, learning_rate=learning_rate)
    return model


def train_pair_model(
    train: PairSet,
    train_index,
    validation_index,
    *,
    tower: str,
    input_shape,
    tower_kwargs: Mapping[str, Any] | None = None,
    distance: str = "l1",
    optimizer: str = "adam",
    learning_rate: float = 6e-5,
    batch_size: int = 64,
    epochs: int = 10,
    augmentation: Augmentation | None = None,
    seed: int = 0,
    max_seconds: float | None = None,
    test: tuple[PairSet, np.ndarray] | None = None,
    track_test: bool = False,
    fill_value: float = 0.0,
    verbose: int | str = "auto",
) -> PairExperiment:
    """Build a tower and pair model, train it, keep the best validation epoch, score it.

    Parameters
    ----------
    train : PairSet
        Training pairs; ``train_index`` / ``validation_index`` select the two parts.
    tower : str
        A name from :data:`~siamese_lessons.models.TOWERS`.
    input_shape : (int, int, int)
    tower_kwargs : mapping
        Hyperparameters of the tower.
    distance, optimizer, learning_rate, batch_size, epochs, augmentation, seed, max_seconds
        As in :func:`~siamese_lessons.training.fit_pair_model`.
    test : (PairSet, index) or None
        Held-out pairs, scored once at the end with the validation threshold.
    track_test : bool
        Also record test loss/accuracy after every epoch, for plots only (it
        never influences which epoch is kept).

    Returns
    -------
    PairExperiment
    """
    model = build_pair_model(tower, input_shape, tower_kwargs=tower_kwargs, distance=distance,
                             optimizer=optimizer, learning_rate=learning_rate, seed=seed)
    extra = {"test": test} if (track_test and test is not None) else None
    fit = fit_pair_model(model, train, train_index, validation_index, epochs=epochs, batch_size=batch_size,
                         augmentation=augmentation, seed=seed, max_seconds=max_seconds, extra_eval=extra,
                         fill_value=fill_value, verbose=verbose)
    threshold, metrics, tscores = score_pair_model(model, (train, np.asarray(validation_index)), test)
    metrics.update(best_epoch=fit.best_epoch, epochs_run=len(fit.history), train_seconds=fit.seconds,
                   parameters=int(model.count_params()))
    return PairExperiment(model=model, fit=fit, threshold=threshold, metrics=metrics, test_scores=tscores,
                          test_set=None if test is None else test[0],
                          test_index=None if test is None else np.asarray(test[1]))


#: The LFW seed's split of pairsDevTrain: 2,145 training and 55 validation pairs.
LFW_SEED_SPLIT = (2145, 55)


@dataclasses.dataclass(frozen=True)
class LFWStep:
    """One rung of chapter 2's ladder from the seed model to a better one.

    Attributes
    ----------
    name : str
        Short label for tables.
    what : str
        What changed from the previous rung.
    tower : str
        Tower name.
    tower_kwargs : dict
    optimizer : str
    learning_rate : float
    augmentation : Augmentation or None
    resolution_factor : float
        Image side relative to the profile's LFW size (0.5 = half).
    sampled_pairs : bool
        Train on pairs sampled from the pairsDevTrain people's images (LFW
        people, identity-unrestricted) instead of the 2,145 official pairs.
    """

    name: str
    what: str
    tower: str
    tower_kwargs: Mapping[str, Any]
    optimizer: str = "adam"
    learning_rate: float = 6e-5
    augmentation: Augmentation | None = None
    resolution_factor: float = 1.0
    sampled_pairs: bool = False


#: Distortions for face training images: flips, small rotations, zooms and shifts.
FACE_AUGMENTATION = Augmentation(rotation=5.0, shear=0.0, scale=(0.95, 1.05), translation=4.0, flip=True,
                                 p=0.5)
_SEED_TOWER = {"conv_blocks": 2, "filters": 64, "kernel_size": 3, "dropout": 0.5, "dense_units": 1024}
#: The improved rungs' tower: four blocks of one 3x3 convolution with batch norm, global average pooling.
_LIGHT_TOWER = MappingProxyType({"filters": (32, 64, 128, 128), "convs_per_block": 1, "dropout": 0.0,
                                 "embedding_dim": 128})

#: Chapter 2's ladder: the seed, then one change at a time.
LFW_STEPS = (
    LFWStep("seed", "the LFW seed: 2 conv blocks of 64 3x3, dropout 0.5, dense 1024; Adam 6e-5",
            "lfw_seed", _SEED_TOWER),
    LFWStep("+augmentation", "random flips, small rotations, zooms and shifts of the training images",
            "lfw_seed", _SEED_TOWER, augmentation=FACE_AUGMENTATION),
    LFWStep("improved tower", "batch norm, pooling and global average pooling instead of a 238k-input "
            "dense layer; Adam 1e-3", "improved", _LIGHT_TOWER,
            learning_rate=1e-3, augmentation=FACE_AUGMENTATION),
    LFWStep("half resolution", "the improved tower on images of half the side",
            "improved", _LIGHT_TOWER, learning_rate=1e-3,
            augmentation=FACE_AUGMENTATION, resolution_factor=0.5),
    LFWStep("more pairs", "pairs sampled from all images of the pairsDevTrain people "
            "(identity-unrestricted), not only the 2,145 official ones",
            "improved", _LIGHT_TOWER, learning_rate=1e-3,
            augmentation=FACE_AUGMENTATION, resolution_factor=0.5, sampled_pairs=True),
)


def lfw_step_data(
    step: LFWStep,
    *,
    resize: float | None,
    train_pairs: int | None,
    test_pairs: int | None,
    sampled_pairs: int,
    validation_pairs: int = LFW_SEED_SPLIT[1],
    seed: int = 0,
    cache: dict | None = None,
) -> tuple[PairSet, np.ndarray, np.ndarray, PairSet, np.ndarray]:
    """The pairs one rung of :data:`LFW_STEPS` trains, validates and is tested on.

    Training: the official pairsDevTrain pairs left after ``validation_pairs`` of
    them are held out (:func:`lfw_view1`), or, for a ``sampled_pairs`` rung,
    ``sampled_pairs`` pairs drawn from every image of the pairsDevTrain people
    (checked to share nobody with the test pairs). Validation: the held-out official
    pairs. Test: pairsDevTest (optionally a balanced subset of ``test_pairs``).

    Returns
    -------
    pairs, train_index, validation_index, test, test_index
        ``pairs`` holds the training and validation pairs, selected by the two indices.
    """
    from .data import load_lfw_people
    from .pairs import check_no_identity_leakage, sample_pairs

    factor = (1.0 if resize is None else resize) * step.resolution_factor
    r = None if factor == 1.0 else factor
    cache = {} if cache is None else cache
    train, tr, va, test, tidx = lfw_view1(r, train_pairs=train_pairs, test_pairs=test_pairs,
                                          validation_pairs=validation_pairs, seed=seed, cache=cache)
    if not step.sampled_pairs:
        return train, tr, va, test, tidx
    if ("people", r) not in cache:
        people = load_lfw_people(resize=r)
        keep = np.isin(people.identities, sorted(train.people))
        cache[("people", r)] = people.subset(keep, name="LFW people of pairsDevTrain")
    people = cache[("people", r)]
    check_no_identity_leakage(people, test, context="chapter 2, more pairs")
    extra = sample_pairs(people, sampled_pairs, seed=seed)
    # One table: the sampled pairs plus the official validation pairs (re-indexed).
    fit_set, fit_tr, fit_va = _join_pairs(extra, train.subset(va))
    return fit_set, fit_tr, fit_va, test, tidx


def run_lfw_step(
    step: LFWStep,
    *,
    resize: float | None,
    train_pairs: int | None,
    test_pairs: int | None,
    sampled_pairs: int,
    epochs: int,
    batch_size: int = 64,
    validation_pairs: int = LFW_SEED_SPLIT[1],
    seed: int = 0,
    max_seconds: float | None = None,
    track_test: bool = True,
    verbose: int | str = "auto",
    cache: dict | None = None,
) -> PairExperiment:
    """Train and score one rung of :data:`LFW_STEPS` on LFW View 1.

    Data (:func:`lfw_step_data`): ``pairsDevTrain`` split into training and
    ``validation_pairs`` validation pairs (the seed's 55 by default), scored on
    ``pairsDevTest`` with the validation-chosen threshold.

    Parameters
    ----------
    step : LFWStep
    resize : float or None
        Profile LFW resize (``None`` = 250x250); multiplied by ``step.resolution_factor``.
    train_pairs, test_pairs : int or None
        Caps (``None`` = all).
    sampled_pairs : int
        Pairs drawn for ``step.sampled_pairs`` rungs.
    epochs, batch_size, validation_pairs, seed, max_seconds, track_test, verbose
        Training settings.
    cache : dict or None
        Loaded datasets keyed by resolution, reused across rungs.
    """
    fit_set, fit_tr, fit_va, test, tidx = lfw_step_data(
        step, resize=resize, train_pairs=train_pairs, test_pairs=test_pairs, sampled_pairs=sampled_pairs,
        validation_pairs=validation_pairs, seed=seed, cache=cache)
    return train_pair_model(fit_set, fit_tr, fit_va, tower=step.tower, input_shape=_input_shape(test.images),
                            tower_kwargs=step.tower_kwargs, optimizer=step.optimizer,
                            learning_rate=step.learning_rate, batch_size=batch_size, epochs=epochs,
                            augmentation=step.augmentation, seed=seed, max_seconds=max_seconds,
                            test=(test, tidx), track_test=track_test, verbose=verbose)


def lfw_view1(
    resize: float | None,
    *,
    train_pairs: int | None,
    test_pairs: int | None,
    validation_pairs: int = LFW_SEED_SPLIT[1],
    seed: int = 0,
    cache: dict | None = None,
) -> tuple[PairSet, np.ndarray, np.ndarray, PairSet, np.ndarray]:
    """LFW View 1 split the seed's way: pairsDevTrain into training and validation
    pairs (the seed's 55 by default), pairsDevTest for testing; both optionally capped
    to balanced, seeded subsets.

    Parameters
    ----------
    resize : float or None
        LFW resize (``None`` = 250x250).
    train_pairs, test_pairs : int or None
        Caps on training (excluding validation) and test pairs (``None`` = all).
    validation_pairs : int
        Pairs of pairsDevTrain held out for validation.
    seed : int
    cache : dict or None
        Loaded pair sets keyed by ``("pairs", resize)``, filled and reused.

    Returns
    -------
    train, train_index, validation_index, test, test_index
    """
    from .data import load_lfw_pairs
    from .training import split_validation

    cache = {} if cache is None else cache
    if ("pairs", resize) not in cache:
        cache[("pairs", resize)] = (load_lfw_pairs("train", resize=resize),
                                    load_lfw_pairs("test", resize=resize))
    train, test = cache[("pairs", resize)]
    n_val = int(validation_pairs)
    if not 2 <= n_val < len(train):
        raise ValueError(f"validation_pairs must be between 2 and {len(train) - 1}, got {validation_pairs}")
    rng = np.random.default_rng(seed)
    index = np.arange(len(train))
    if train_pairs is not None and train_pairs + n_val < len(train):
        index = _balanced(train.labels, train_pairs + n_val, rng)
    tr, va = split_validation(train.subset(index), n_val, seed=seed)
    tidx = np.arange(len(test)) if test_pairs is None or test_pairs >= len(test) else \
        _balanced(test.labels, test_pairs, rng)
    return train, index[tr], index[va], test, tidx


def _balanced(labels: np.ndarray, n: int, rng) -> np.ndarray:
    same = rng.permutation(np.flatnonzero(labels == 1))[: (n + 1) // 2]
    diff = rng.permutation(np.flatnonzero(labels == 0))[: n // 2]
    return np.sort(np.concatenate([same, diff]))


def _join_pairs(first: PairSet, second: PairSet) -> tuple[PairSet, np.ndarray, np.ndarray]:
    """One pair set holding ``first``'s pairs then ``second``'s (images re-indexed), and the
    index of each part."""
    offset = len(first.images)
    joined = PairSet(images=np.concatenate([first.images, second.images]),
                     pairs=np.concatenate([first.pairs, second.pairs + offset]),
                     labels=np.concatenate([first.labels, second.labels]),
                     identities=np.concatenate([first.identities, second.identities]),
                     paths=np.concatenate([first.paths, second.paths]), name=first.name)
    return joined, np.arange(len(first)), np.arange(len(first), len(first) + len(second))


def lfw_embedding_data(resize: float | None, *, cache: dict | None = None):
    """Identity-labelled training faces and the DevTest pairs, identity-disjoint.

    Both at the classic 125x94 face crop, resized by ``resize``. Training data is
    every LFW image of every person who is not in ``pairsDevTest.txt``; the
    function checks that no test person leaks into it.

    Returns
    -------
    train : IdentitySet
    test : PairSet
    """
    from .data import LFW_CLASSIC_CROP, load_lfw_pairs, load_lfw_people
    from .pairs import check_no_identity_leakage, exclude_identities

    cache = {} if cache is None else cache
    key = ("faces", resize)
    if key not in cache:
        test = load_lfw_pairs("test", crop=LFW_CLASSIC_CROP, resize=resize)
        people = load_lfw_people(crop=LFW_CLASSIC_CROP, resize=resize)
        train = exclude_identities(people, test)
        check_no_identity_leakage(train, test, context="embedding chapters")
        cache[key] = (train, test)
    return cache[key]


def face_embedder(input_shape, *, dim: int = 64, seed: int = 0):
    """The embedding network of chapters 4 to 6: a light batch-norm tower (four blocks of
    one 3x3 convolution, 32-64-128-128 filters, no dropout), a ``dim``-number
    projection and L2 normalisation."""
    from .models import embedding_model, improved_tower

    tower = improved_tower(input_shape, filters=(32, 64, 128, 128), convs_per_block=1, dropout=0.0,
                           embedding_dim=128, seed=seed)
    return embedding_model(tower, dim=dim, seed=seed)


def train_contrastive(
    train: Any,
    *,
    n_pairs: int,
    epochs: int,
    batch_size: int = 64,
    margin: float = 1.0,
    learning_rate: float = 1e-3,
    embedding_dim: int = 64,
    invert_labels: bool = False,
    validation: Any = None,
    seed: int = 0,
    verbose: int | str = "auto",
):
    """Train an embedding with the contrastive loss on pairs sampled from ``train``.

    Parameters
    ----------
    train : IdentitySet
    n_pairs : int
        Pairs sampled (half same, half different).
    invert_labels : bool
        Train with 0 = same (the classic mistake), to show what it does.
    validation : IdentitySet or None
        People held out of ``train``: the epoch is chosen on pairs of theirs
        (``max(32, n_pairs // 10)``). ``None``: on that many more pairs of ``train``.

    Returns
    -------
    embedder : keras.Model
    fit : FitResult
    """
    import keras

    from .losses import ContrastiveLoss
    from .models import siamese_distance_model
    from .pairs import check_no_identity_leakage, sample_pairs
    from .training import split_validation

    keras.utils.set_random_seed(seed)
    n_val = max(32, n_pairs // 10)
    if validation is None:
        pairs = sample_pairs(train, n_pairs + n_val, seed=seed)
        tr, va = split_validation(pairs, n_val, seed=seed)
    else:
        check_no_identity_leakage(train, validation.class_names[np.unique(validation.labels)],
                                  context="contrastive validation people")
        pairs, tr, va = _join_pairs(sample_pairs(train, n_pairs, seed=seed),
                                    sample_pairs(validation, n_val, seed=seed + 1))
    if invert_labels:
        pairs = dataclasses.replace(pairs, labels=1 - pairs.labels)
    shape = _input_shape(pairs.images)
    embedder = face_embedder(shape, dim=embedding_dim, seed=seed)
    model = siamese_distance_model(embedder)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=ContrastiveLoss(margin=margin))
    fit = fit_pair_model(model, pairs, tr, va, epochs=epochs, batch_size=batch_size, seed=seed,
                         augmentation=FACE_AUGMENTATION, verbose=verbose)
    return embedder, fit


def train_triplet(
    train: Any,
    *,
    mining: str,
    pk: tuple[int, int],
    steps_per_epoch: int,
    epochs: int,
    margin: float = 0.2,
    learning_rate: float = 1e-3,
    embedding_dim: int = 64,
    random_batches: bool = False,
    embedder: Any = None,
    seed: int = 0,
    max_seconds: float | None = None,
    verbose: int | str = "auto",
):
    """Train an embedding with a triplet loss mined online inside each batch.

    Parameters
    ----------
    train : IdentitySet
    mining : {"batch_all", "batch_hard", "semi_hard"}
    pk : (int, int)
        Identities per batch and images per identity.
    random_batches : bool
        Draw batches of ``P * K`` random images instead of P x K groups (to show
        why mining needs P x K sampling: random batches rarely hold positives).
    embedder : keras.Model or None
        Continue training this embedder (with a new optimizer) instead of a fresh one:
        e.g. one warmed up with another miner.
    max_seconds : float or None
        Wall-clock cap; training stops after the batch that crosses it.

    Returns
    -------
    embedder : keras.Model
    history : pandas.DataFrame
        Per epoch: ``loss``.
    """
    import keras
    import pandas as pd

    from .datasets import identity_batch_dataset
    from .pairs import pk_batches

    loss = mined_triplet_loss(mining, margin)
    keras.utils.set_random_seed(seed)
    p, k = pk
    n = steps_per_epoch * epochs
    if random_batches:
        batches = np.random.default_rng(seed).integers(0, len(train), (n, p * k))
    else:
        batches = pk_batches(train, p, k, n, seed=seed)
    if embedder is None:
        embedder = face_embedder(_input_shape(train.images), dim=embedding_dim, seed=seed)
    embedder.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
    ds = identity_batch_dataset(train.images, train.labels, batches, seed=seed,
                                augmentation=FACE_AUGMENTATION)
    hist = embedder.fit(ds, epochs=epochs, steps_per_epoch=steps_per_epoch, verbose=verbose, shuffle=False,
                        callbacks=[TimeLimit(max_seconds), keras.callbacks.TerminateOnNaN()])
    frame = pd.DataFrame(hist.history)
    frame.insert(0, "epoch", np.arange(1, len(frame) + 1))
    return embedder, frame


def summarize_lfw_record(step: Mapping[str, Any]) -> dict[str, float]:
    """Key numbers of one rung in a ``benchmarks/lfw_pairs.py`` record.

    The per-epoch test accuracy in the history is Keras's accuracy at a fixed
    threshold of 0.5, so the effect of choosing the epoch on the test set is shown
    at that threshold on both sides: at the epoch kept by validation, and at the
    best test epoch. ``test accuracy, validation threshold`` is the honest number.
    """
    h = step["history"]
    kept = int(step["best_epoch"])
    return {
        "image side": step["image_side"],
        "train accuracy (kept epoch)": h["accuracy"][kept - 1],
        "test acc. @0.5, kept epoch": h["test_accuracy"][kept - 1],
        "test acc. @0.5, best test epoch": max(h["test_accuracy"]),
        "test acc., validation threshold": step["test_accuracy"],
        "test AUC": step["test_auc"],
        "kept epoch": kept,
        "epochs run": step["epochs_run"],
        "seconds": step["train_seconds"],
    }
