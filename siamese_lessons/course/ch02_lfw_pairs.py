"""Chapter 2: the LFW seed experiment at 250x250 and the ladder that improves it.

The rungs are :data:`LFW_STEPS` (the seed, then one change at a time); this module owns
the rungs, the seed's View 1 split, the chapter's sizes per profile, the untrained
twin of a rung, and the comparison of the chosen rung with its twin and LBP on the
same validation and test pairs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from ..augmentation import FACE_AUGMENTATION, Augmentation
from ..baselines import lbp_pair_scores
from ..config import check_positive
from ..data.containers import PairSet
from ..evaluation import compare_verifiers, pair_scores
from ..pairs import join_pairs
from ..profiles import Profile, check_resize, get_profile
from ..training import PairExperiment, build_pair_model, fit_slice, image_input_shape, train_pair_model

__all__ = [
    "LFW_SEED_SPLIT",
    "LFW_STEPS",
    "LFWStep",
    "SIZES",
    "LadderSizes",
    "compare_with_baselines",
    "learning_check",
    "lfw_step_data",
    "lfw_view1",
    "run_lfw_step",
    "run_step",
    "summarize_lfw_record",
    "sizes",
    "step_image_shape",
    "untrained_twin",
]


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
        people, identity-unrestricted) instead of the official training pairs.
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
            "outside the validation pairs (identity-unrestricted), not only the official ones",
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
    ``sampled_pairs`` pairs drawn from every image of the pairsDevTrain people who are
    in no validation pair (checked to share nobody with the validation or the test
    pairs: drawn from everyone, the rung would train on the validation pairs' people
    and images, and its validation score would flatter it). Validation: the held-out
    official pairs. Test: pairsDevTest (optionally a balanced subset of ``test_pairs``).

    Returns
    -------
    pairs, train_index, validation_index, test, test_index
        ``pairs`` holds the training and validation pairs, selected by the two indices.
    """
    from ..data import load_lfw_people
    from ..pairs import check_no_identity_leakage, exclude_identities, sample_pairs

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
    validation = train.subset(va)
    people = exclude_identities(cache[("people", r)], validation)
    check_no_identity_leakage(people, validation, context="chapter 2, more pairs vs validation")
    check_no_identity_leakage(people, test, context="chapter 2, more pairs")
    extra = sample_pairs(people, sampled_pairs, seed=seed)
    # One table: the sampled pairs plus the official validation pairs (re-indexed).
    fit_set, fit_tr, fit_va = join_pairs(extra, validation)
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
    return train_pair_model(fit_set, fit_tr, fit_va, tower=step.tower,
                            input_shape=image_input_shape(test.images), tower_kwargs=step.tower_kwargs,
                            optimizer=step.optimizer,
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
    from ..data import load_lfw_pairs
    from ..training import split_validation

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


@dataclasses.dataclass(frozen=True)
class LadderSizes:
    """How large chapter 2's runs are.

    Attributes
    ----------
    resize : float or None
        LFW resize of the full 250x250 frame (``None``: 250x250, the seed's size);
        a rung's ``resolution_factor`` multiplies it.
    train_pairs, test_pairs : int or None
        Caps on the official pairsDevTrain training pairs and on the DevTest pairs
        (``None``: every official pair not held out for validation, and all 1,000).
    sampled_pairs : int
        Pairs drawn from the pairsDevTrain people's images for the "more pairs" rung.
    epochs, batch_size : int
    validation_pairs : int
        Official pairsDevTrain pairs held out to choose the epoch, the threshold and the
        rung (the seed held out 55, :data:`LFW_SEED_SPLIT`; the chapter holds out 400, as
        chapter 3 does: on 55 pairs an accuracy's standard error is about 6 points).
    """

    resize: float | None
    train_pairs: int | None
    test_pairs: int | None
    sampled_pairs: int
    epochs: int
    batch_size: int = 64
    validation_pairs: int = LFW_SEED_SPLIT[1]

    def __post_init__(self) -> None:
        check_resize("resize", self.resize)
        check_positive(self, "sampled_pairs", "epochs", "batch_size", "validation_pairs")


#: Chapter 2's sizes by profile name: 62x62 on a CPU, the seed's 250x250 and 30 epochs on a GPU.
SIZES: Mapping[str, LadderSizes] = MappingProxyType({
    "quick": LadderSizes(resize=0.25, train_pairs=512, test_pairs=None, sampled_pairs=8_000, epochs=3,
                         validation_pairs=400),
    "full": LadderSizes(resize=None, train_pairs=None, test_pairs=None, sampled_pairs=20_000, epochs=30,
                        validation_pairs=400),
})


def sizes(profile: Profile | str | None = None) -> LadderSizes:
    """Chapter 2's sizes for ``profile`` (a Profile, its name, or ``None`` for the active one)."""
    return SIZES[get_profile(profile).name]


def _resize(step: LFWStep, run: LadderSizes) -> float | None:
    factor = (1.0 if run.resize is None else run.resize) * step.resolution_factor
    return None if factor == 1.0 else factor


def step_image_shape(step: LFWStep, run: LadderSizes) -> tuple[int, int, int]:
    """The model input shape of ``step`` at ``run``'s size (grey)."""
    factor = _resize(step, run)
    side = 250 if factor is None else int(factor * 250)
    return (side, side, 1)


def run_step(step: LFWStep, run: LadderSizes, *, seed: int = 0, track_test: bool = True,
             verbose: int | str = "auto", cache: dict | None = None) -> PairExperiment:
    """Train and score one rung at ``run``'s sizes (see
    :func:`run_lfw_step`)."""
    return run_lfw_step(step, resize=run.resize, train_pairs=run.train_pairs, test_pairs=run.test_pairs,
                        sampled_pairs=run.sampled_pairs, epochs=run.epochs, batch_size=run.batch_size,
                        validation_pairs=run.validation_pairs, seed=seed, track_test=track_test,
                        verbose=verbose, cache=cache)


def untrained_twin(step: LFWStep, run: LadderSizes, *, seed: int = 0):
    """``step``'s model with the initial weights :func:`run_step` starts from, untrained."""
    return build_pair_model(step.tower, step_image_shape(step, run), tower_kwargs=step.tower_kwargs,
                            optimizer=step.optimizer, learning_rate=step.learning_rate, seed=seed)


def compare_with_baselines(exp: PairExperiment, step: LFWStep, run: LadderSizes, *, seed: int = 0,
                           cache: dict | None = None):
    """Score a trained rung, its untrained twin and LBP (uniform LBP histograms, chi-square)
    on the same pairs: each threshold chosen on the rung's validation pairs (the seed's
    split of pairsDevTrain, ``run.validation_pairs`` of them), then applied once to the test pairs.

    Returns
    -------
    table, correct
        As :func:`~siamese_lessons.evaluation.compare_verifiers` returns them, for the
        methods ``"LBP (chi-square)"``, ``"untrained twin"`` and ``step.name``.
    """
    train, _, val_index, test, test_index = lfw_view1(_resize(step, run), train_pairs=run.train_pairs,
                                                      test_pairs=run.test_pairs,
                                                      validation_pairs=run.validation_pairs, seed=seed,
                                                      cache=cache)
    twin = untrained_twin(step, run, seed=seed)
    scorers = {"LBP (chi-square)": lambda pairs, index: lbp_pair_scores(pairs, index),
               "untrained twin": lambda pairs, index: pair_scores(twin, pairs, index),
               step.name: lambda pairs, index: pair_scores(exp.model, pairs, index)}
    return compare_verifiers({name: f(train, val_index) for name, f in scorers.items()},
                             train.labels[val_index],
                             {name: f(test, test_index) for name, f in scorers.items()},
                             test.labels[test_index])



def learning_check(step: LFWStep, run: LadderSizes, *, pairs: int = 64, steps: int = 30,
                   batch_size: int = 16, every: int = 5, seed: int = 0, cache: dict | None = None):
    """Train ``step``'s model at ``run``'s resolution on ``pairs`` official pairsDevTrain pairs
    for ``steps`` steps, measuring the slice every ``every`` steps; see
    :func:`~siamese_lessons.training.fit_slice`."""
    train, tr, _, _, _ = lfw_view1(_resize(step, run), train_pairs=None, test_pairs=None, seed=seed,
                                   cache=cache)
    rng = np.random.default_rng(seed)
    same = rng.choice(tr[train.labels[tr] == 1], pairs // 2, replace=False)
    diff = rng.choice(tr[train.labels[tr] == 0], pairs - pairs // 2, replace=False)
    slice_pairs: PairSet = train.subset(rng.permutation(np.concatenate([same, diff])))
    return fit_slice(untrained_twin(step, run, seed=seed), slice_pairs, steps=steps, batch_size=batch_size,
                     every=every)
