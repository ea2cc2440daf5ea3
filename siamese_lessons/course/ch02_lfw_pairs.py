"""Chapter 2: the LFW seed experiment at 250x250 and the ladder that improves it.

The rungs are :data:`~siamese_lessons.experiments.LFW_STEPS` (the seed, then one
change at a time); this module owns the chapter's sizes per profile, the untrained
twin of a rung, and the comparison of the chosen rung with its twin and LBP on the
same validation and test pairs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from ..baselines import lbp_pair_scores
from ..data.containers import PairSet
from ..evaluation import compare_verifiers, pair_scores
from ..experiments import LFW_SEED_SPLIT, LFWStep, PairExperiment, build_pair_model, lfw_view1, run_lfw_step
from ..profiles import Profile, get_profile
from ..training import fit_slice

__all__ = [
    "SIZES",
    "LadderSizes",
    "compare_with_baselines",
    "learning_check",
    "run_step",
    "sizes",
    "step_image_shape",
    "untrained_twin",
    "validation_pairs",
]


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
        (``None``: all 2,145 and all 1,000).
    sampled_pairs : int
        Pairs drawn from the pairsDevTrain people's images for the "more pairs" rung.
    epochs, batch_size : int
    validation_pairs : int
        Official pairsDevTrain pairs held out to choose the epoch and the threshold
        (the seed's 55 by default).
    """

    resize: float | None
    train_pairs: int | None
    test_pairs: int | None
    sampled_pairs: int
    epochs: int
    batch_size: int = 64
    validation_pairs: int = LFW_SEED_SPLIT[1]

    def __post_init__(self) -> None:
        if self.resize is not None and not 0 < self.resize <= 1:
            raise ValueError(f"resize must be in (0, 1] or None, got {self.resize}")
        for field in ("sampled_pairs", "epochs", "batch_size", "validation_pairs"):
            if int(getattr(self, field)) < 1:
                raise ValueError(f"{field} must be positive, got {getattr(self, field)!r}")


#: Chapter 2's sizes by profile name: 62x62 on a CPU, the seed's 250x250 and 30 epochs on a GPU.
SIZES: Mapping[str, LadderSizes] = MappingProxyType({
    "quick": LadderSizes(resize=0.25, train_pairs=512, test_pairs=None, sampled_pairs=8_000, epochs=3),
    "full": LadderSizes(resize=None, train_pairs=None, test_pairs=None, sampled_pairs=20_000, epochs=30),
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
    :func:`~siamese_lessons.experiments.run_lfw_step`)."""
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


def validation_pairs() -> int:
    """How many validation pairs every rung chooses its epoch and threshold on (the seed's 55)."""
    return LFW_SEED_SPLIT[1]


def learning_check(step: LFWStep, run: LadderSizes, *, pairs: int = 64, steps: int = 30,
                   batch_size: int = 16, seed: int = 0, cache: dict | None = None):
    """Train ``step``'s model at ``run``'s resolution on ``pairs`` official pairsDevTrain pairs
    for ``steps`` steps; see :func:`~siamese_lessons.training.fit_slice`."""
    train, tr, _, _, _ = lfw_view1(_resize(step, run), train_pairs=None, test_pairs=None, seed=seed,
                                   cache=cache)
    rng = np.random.default_rng(seed)
    same = rng.choice(tr[train.labels[tr] == 1], pairs // 2, replace=False)
    diff = rng.choice(tr[train.labels[tr] == 0], pairs - pairs // 2, replace=False)
    slice_pairs: PairSet = train.subset(rng.permutation(np.concatenate([same, diff])))
    return fit_slice(untrained_twin(step, run, seed=seed), slice_pairs, steps=steps, batch_size=batch_size)
