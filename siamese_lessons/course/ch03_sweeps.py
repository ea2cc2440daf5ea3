"""Chapter 3: one-at-a-time sweeps around chapter 2's final rung, with seeds, and a
search over combinations.

A sweep run trains chapter 2's last rung (:data:`~siamese_lessons.course.ch02_lfw_pairs.LFW_STEPS`:
the light batch-norm tower on pairs sampled from the pairsDevTrain people) with one
configuration, chooses its epoch and threshold on held-out official pairsDevTrain
pairs, and reports DevTest beside them (reported, never chosen by). The
configuration with the best mean validation accuracy is then retrained at chapter
2's size and compared with its untrained twin and LBP.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from ..augmentation import FACE_AUGMENTATION
from ..profiles import Profile, get_profile
from ..training import PairExperiment
from . import ch02_lfw_pairs as ch02
from .ch02_lfw_pairs import LFW_STEPS, LadderSizes, LFWStep

__all__ = ["SIZES", "SweepSizes", "configure", "learning_check", "sizes", "sweep_run", "train_chosen"]

#: What a configuration sets (:func:`configure`).
HYPERPARAMETERS = ("learning_rate", "batch_size", "augmentation", "width")


@dataclasses.dataclass(frozen=True)
class SweepSizes:
    """How large chapter 3's sweep is.

    Attributes
    ----------
    sweep : LadderSizes
        Size of each sweep run (chapter 2's sizes, smaller, with more validation pairs).
    final : LadderSizes
        Size the chosen configuration is retrained at.
    base : mapping
        The configuration the sweep varies one setting at a time around (every name of
        :data:`HYPERPARAMETERS`).
    grid : mapping of str to tuple
        Values tried per setting.
    seeds : tuple of int
    max_seconds : float or None
        Wall-clock cap of the whole sweep (``None``: none).
    tuner_space : mapping of str to tuple
        KerasTuner's search space: ``learning_rate`` and keywords of the improved tower.
    tuner_trials : int
    """

    sweep: LadderSizes
    final: LadderSizes
    base: Mapping[str, Any]
    grid: Mapping[str, tuple]
    seeds: tuple[int, ...]
    max_seconds: float | None
    tuner_space: Mapping[str, tuple]
    tuner_trials: int

    def __post_init__(self) -> None:
        if set(self.base) != set(HYPERPARAMETERS):
            raise ValueError(f"base must set exactly {list(HYPERPARAMETERS)}, got {sorted(self.base)}")
        unknown = set(self.grid) - set(HYPERPARAMETERS)
        if unknown:
            raise ValueError(f"grid names unknown settings {sorted(unknown)}; "
                             f"choose from {list(HYPERPARAMETERS)}")
        if not self.seeds:
            raise ValueError("seeds must name at least one seed")
        if int(self.tuner_trials) < 1:
            raise ValueError(f"tuner_trials must be positive, got {self.tuner_trials!r}")
        object.__setattr__(self, "base", MappingProxyType(dict(self.base)))
        object.__setattr__(self, "grid", MappingProxyType({k: tuple(v) for k, v in self.grid.items()}))
        space = {k: tuple(v) for k, v in self.tuner_space.items()}
        object.__setattr__(self, "tuner_space", MappingProxyType(space))


_BASE = {"learning_rate": 1e-3, "batch_size": 64, "augmentation": True, "width": 1.0}

#: Chapter 3's sizes by profile name. Quick: 2,000 sampled pairs and two epochs per
#: run at chapter 2's quick resolution and on its 400 validation pairs (standard error
#: of an accuracy near 0.6: 2.4 points), two seeds, three varied settings, two KerasTuner
#: trials. The whole quick sweep (8 runs) took 113 and 143 s in two fresh-clone CI runs on a
#: 2-core EPYC (whose speed drifts: its run at 0.01 and seed 0 took 13 s and 21 s); with a learning
#: rate of 1e-4 as well (10 runs) it took 161 s in a test run there, and that value ranked
#: last on validation (0.530 and 0.565). Both sweeps chose a learning rate of 0.01, which,
#: retrained, beat its untrained twin by 5.8 and LBP by 3.0 standard errors. The 600 s cap
#: only guards a slow machine (the sweep resumes from its CSV file when run again); with
#: 4,000 pairs and a 120 s cap, CI once finished 2 of 10 runs and ranked nothing.
SIZES: Mapping[str, SweepSizes] = MappingProxyType({
    "quick": SweepSizes(
        sweep=dataclasses.replace(ch02.SIZES["quick"], sampled_pairs=2_000, epochs=2),
        final=ch02.SIZES["quick"],
        base=_BASE,
        grid={"learning_rate": (1e-2, 1e-3), "augmentation": (False, True), "width": (0.5, 1.0)},
        seeds=(0, 1), max_seconds=600.0,
        tuner_space={"learning_rate": (1e-2, 1e-3), "embedding_dim": (64, 128)}, tuner_trials=2),
    "full": SweepSizes(
        sweep=dataclasses.replace(ch02.SIZES["full"], epochs=15),
        final=ch02.SIZES["full"],
        base=_BASE,
        grid={"learning_rate": (3e-3, 1e-3, 3e-4, 1e-4), "batch_size": (32, 64, 128),
              "augmentation": (False, True), "width": (0.5, 1.0, 2.0)},
        seeds=(0, 1, 2), max_seconds=None,
        tuner_space={"learning_rate": (3e-3, 1e-3, 3e-4), "embedding_dim": (64, 128, 256),
                     "convs_per_block": (1, 2), "dropout": (0.0, 0.3)}, tuner_trials=20),
})


def sizes(profile: Profile | str | None = None) -> SweepSizes:
    """Chapter 3's sizes for ``profile`` (a Profile, its name, or ``None`` for the active one)."""
    return SIZES[get_profile(profile).name]


def configure(config: Mapping[str, Any]) -> tuple[LFWStep, int]:
    """Chapter 2's last rung with ``config`` applied, and the batch size it sets.

    ``learning_rate`` sets Adam's rate, ``augmentation`` switches the face
    distortions on or off, ``width`` multiplies every block's filters (at least
    one), ``batch_size`` is returned beside the rung.
    """
    missing = set(HYPERPARAMETERS) - set(config)
    if missing:
        raise ValueError(f"config lacks {sorted(missing)}")
    if not float(config["width"]) > 0:
        raise ValueError(f"width must be positive, got {config['width']!r}")
    rung = LFW_STEPS[-1]
    filters = tuple(max(1, round(f * float(config["width"]))) for f in rung.tower_kwargs["filters"])
    step = dataclasses.replace(rung, name="swept", what=f"chapter 2's last rung with {dict(config)}",
                               tower_kwargs={**rung.tower_kwargs, "filters": filters},
                               learning_rate=float(config["learning_rate"]),
                               augmentation=FACE_AUGMENTATION if config["augmentation"] else None)
    return step, int(config["batch_size"])


def sweep_run(run: SweepSizes, *, cache: dict | None = None) -> Callable[[dict, int], dict[str, float]]:
    """A ``run(config, seed)`` function for :func:`~siamese_lessons.sweeps.run_sweep`: trains
    :func:`configure`'s rung at ``run.sweep``'s size and returns its validation and test
    accuracy, test AUC, kept epoch, training time and size."""
    cache = {} if cache is None else cache

    def one(config: dict, seed: int) -> dict[str, float]:
        step, batch_size = configure(config)
        exp = ch02.run_step(step, dataclasses.replace(run.sweep, batch_size=batch_size), seed=seed,
                            track_test=False, verbose=0, cache=cache)
        keep = ("val_accuracy", "test_accuracy", "test_auc", "best_epoch", "train_seconds", "parameters")
        return {k: exp.metrics[k] for k in keep}

    return one


def train_chosen(config: Mapping[str, Any], run: SweepSizes, *, seed: int = 0, cache: dict | None = None):
    """Retrain ``config`` at ``run.final``'s size and score it, its untrained twin and LBP
    with thresholds chosen on the validation pairs (see
    :func:`~siamese_lessons.course.ch02_lfw_pairs.compare_with_baselines`).

    Returns
    -------
    experiment : PairExperiment
    table, correct
        As :func:`~siamese_lessons.evaluation.compare_verifiers` returns them; the
        trained model's row is ``"chosen"``.
    """
    step, batch_size = configure(config)
    step = dataclasses.replace(step, name="chosen")
    final = dataclasses.replace(run.final, batch_size=batch_size)
    exp: PairExperiment = ch02.run_step(step, final, seed=seed, track_test=False, verbose=0, cache=cache)
    table, correct = ch02.compare_with_baselines(exp, step, final, seed=seed, cache=cache)
    return exp, table, correct


def learning_check(run: SweepSizes, *, pairs: int = 64, steps: int = 30, batch_size: int = 16, seed: int = 0,
                   cache: dict | None = None):
    """Train ``run``'s base configuration (its tower, learning rate and resolution) on a
    slice of official pairsDevTrain pairs; see
    :func:`~siamese_lessons.course.ch02_lfw_pairs.learning_check`."""
    step, _ = configure(run.base)
    return ch02.learning_check(step, run.final, pairs=pairs, steps=steps, batch_size=batch_size, seed=seed,
                               cache=cache)
