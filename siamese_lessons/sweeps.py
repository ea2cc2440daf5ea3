"""Hyperparameter sweeps: one-at-a-time (as the LFW seed did) and grids, repeated
over seeds, resumable from a CSV file, with a wall-clock cap; and a KerasTuner
hypermodel where a search library fits better than a loop."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["PairHyperModel", "grid_configs", "one_at_a_time_configs", "run_sweep", "summarize_sweep"]

Config = dict[str, Any]
RunFn = Callable[[Config, int], Mapping[str, float]]


def one_at_a_time_configs(base: Config, grid: Mapping[str, Sequence[Any]]) -> list[tuple[str, Any, Config]]:
    """Configurations that vary one hyperparameter at a time around ``base``.

    Returns ``(param, value, config)`` triples; ``param`` is ``"base"`` for the
    unchanged configuration, which is listed once even where a grid contains the
    base value (that run is shared, not repeated).
    """
    unknown = set(grid) - set(base)
    if unknown:
        raise ValueError(f"grid names hyperparameters that base does not have: {sorted(unknown)}")
    out = [("base", "-", dict(base))]
    for param, values in grid.items():
        for value in values:
            if value != base[param]:
                out.append((param, value, {**base, param: value}))
    return out


def grid_configs(base: Config, grid: Mapping[str, Sequence[Any]]) -> list[tuple[str, Any, Config]]:
    """Every combination of the ``grid`` values (other settings from ``base``)."""
    names = list(grid)
    out = []
    for values in itertools.product(*(grid[n] for n in names)):
        config = {**base, **dict(zip(names, values, strict=True))}
        out.append(("grid", json.dumps(dict(zip(names, values, strict=True))), config))
    return out


def _key(config: Config, seed: int) -> str:
    return json.dumps({"config": config, "seed": int(seed)}, sort_keys=True, default=str)


def run_sweep(
    run: RunFn,
    configs: Sequence[tuple[str, Any, Config]],
    *,
    seeds: Sequence[int],
    csv_path: str | Path | None = None,
    max_seconds: float | None = None,
    progress: bool = True,
    errors: str = "raise",
) -> pd.DataFrame:
    """Run ``run(config, seed)`` for every configuration and seed.

    Parameters
    ----------
    run : callable
        Trains and scores one configuration; returns a mapping of metric names
        to numbers (e.g. ``{"val_accuracy": 0.61, "test_accuracy": 0.58}``).
    configs : sequence of (param, value, config)
        From :func:`one_at_a_time_configs` or :func:`grid_configs`.
    seeds : sequence of int
        Every configuration is run once per seed.
    csv_path : path or None
        Results are appended here as each run finishes; runs already in the file
        are not repeated (resume after an interruption).
    max_seconds : float or None
        Wall-clock cap: no new run starts after it. Runs not done are listed in
        the result's ``attrs["not_run"]`` and reported, never dropped silently.
    progress : bool
        Show a tqdm bar.
    errors : {"raise", "record"}
        ``"record"``: a configuration whose run raises ``ValueError`` (e.g. a
        tower that does not fit the image) gets a row with the message in an
        ``error`` column and no metrics, instead of stopping the sweep.

    Returns
    -------
    pandas.DataFrame
        One row per (configuration, seed): ``param``, ``value``, ``seed``, the
        metrics, ``seconds`` and ``config`` (JSON).
    """
    from tqdm import tqdm

    if not seeds:
        raise ValueError("seeds must name at least one seed")
    if errors not in ("raise", "record"):
        raise ValueError(f"errors must be 'raise' or 'record', got {errors!r}")
    done: dict[str, dict] = {}
    path = Path(csv_path) if csv_path is not None else None
    if path is not None and path.exists() and path.stat().st_size:
        previous = pd.read_csv(path)
        for row in previous.to_dict("records"):
            done[_key(json.loads(row["config"]), row["seed"])] = row
    jobs = [(p, v, c, s) for (p, v, c) in configs for s in seeds]
    rows, not_run = [], []
    start = time.perf_counter()
    bar = tqdm(jobs, desc="sweep", unit="run", disable=not progress)
    for param, value, config, seed in bar:
        key = _key(config, seed)
        if key in done:
            rows.append({**done[key], "param": param, "value": str(value)})
            continue
        if max_seconds is not None and time.perf_counter() - start > max_seconds:
            not_run.append({"param": param, "value": str(value), "seed": seed})
            continue
        t0 = time.perf_counter()
        try:
            metrics = dict(run(dict(config), int(seed)))
        except ValueError as exc:
            if errors == "raise":
                raise
            metrics = {"error": str(exc)}
        row = {"param": param, "value": str(value), "seed": int(seed), **metrics,
               "seconds": time.perf_counter() - t0, "config": json.dumps(config, sort_keys=True, default=str)}
        rows.append(row)
        done[key] = row
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            pd.DataFrame([row]).to_csv(path, mode="a", header=not path.exists() or not path.stat().st_size,
                                       index=False)
    bar.close()
    frame = pd.DataFrame(rows)
    frame.attrs["not_run"] = not_run
    if not_run:
        print(f"time cap of {max_seconds:.0f} s reached: {len(not_run)} of {len(jobs)} runs were not "
              "started (see .attrs['not_run']); run again with the same csv_path to resume")
    return frame


def summarize_sweep(results: pd.DataFrame, metric: str, *, n_items: int | None = None,
                    report: Sequence[str] = ()) -> pd.DataFrame:
    """Mean, standard deviation and count of ``metric`` per (param, value), and
    whether each differs from the base configuration by more than the noise.

    Rank and select on a *validation* metric; ``report`` adds the mean of other
    columns (e.g. ``"test_accuracy"``) beside it, to show, never to choose.

    ``differs`` is True when ``|mean - base mean| > 2 * sqrt(se^2 + se_base^2)``
    with ``se = spread / sqrt(n)`` over ``n`` seeds: a rough two-standard-error rule
    that needs at least two seeds (with one seed nothing can be called a
    difference). ``spread`` is the standard deviation over seeds, but when the
    metric is an accuracy on ``n_items`` pairs it is at least that accuracy's own
    binomial standard deviation ``sqrt(p (1 - p) / n_items)``: two lucky seeds that
    agree do not make a 55-pair accuracy precise.
    """
    if metric not in results:
        raise KeyError(f"no column {metric!r} in the results; have {list(results.columns)}")
    missing = [m for m in report if m not in results]
    if missing:
        raise KeyError(f"no column {missing} in the results; have {list(results.columns)}")
    if n_items is not None and n_items < 1:
        raise ValueError(f"n_items must be positive, got {n_items}")
    if "error" in results:
        results = results[results["error"].isna()]
    grouped = results.groupby(["param", "value"], sort=False)[metric]
    table = grouped.agg(["mean", "std", "count"]).reset_index()
    for m in report:
        table[f"{m} mean"] = results.groupby(["param", "value"], sort=False)[m].mean().to_numpy()
    base = table[table["param"] == "base"]
    if len(base):
        spread = table["std"].fillna(0)
        if n_items is not None:
            spread = np.maximum(spread, np.sqrt(table["mean"] * (1 - table["mean"]) / n_items))
        table["noise_se"] = spread / np.sqrt(table["count"])
        b = table[table["param"] == "base"].iloc[0]
        se, se_base = table["noise_se"], b["noise_se"]
        noise = 2 * np.sqrt(se**2 + se_base**2)
        table["delta_vs_base"] = table["mean"] - b["mean"]
        table["differs"] = (table["count"] > 1) & (b["count"] > 1) & (table["delta_vs_base"].abs() > noise)
        table.loc[table["param"] == "base", "differs"] = False
    return table


class PairHyperModel:
    """A KerasTuner hypermodel of a named tower + L1 pair head.

    Every hyperparameter in ``space`` with more than one value becomes a
    ``hp.Choice``: ``optimizer`` and ``learning_rate`` set the compile step, every
    other name is a keyword of the tower (see :data:`~siamese_lessons.models.TOWERS`),
    so that a tuner explores combinations the one-at-a-time loop never tries.

    Parameters
    ----------
    input_shape : (int, int, int)
    space : mapping of str to sequence
        Candidate values per hyperparameter (scalars, as KerasTuner's ``Choice`` needs).
    tower : str
        Tower name (default: the LFW seed's).
    tower_kwargs : mapping or None
        Fixed tower keywords (``space`` overrides them).
    augmentation : Augmentation or None
        Distortions of the training images, a layer of every model built
        (see :func:`~siamese_lessons.training.build_pair_model`).
    seed : int
    """

    def __init__(self, input_shape, space: Mapping[str, Sequence[Any]], *, tower: str = "lfw_seed",
                 tower_kwargs: Mapping[str, Any] | None = None, augmentation=None, seed: int = 0):
        import keras_tuner

        from .models import TOWERS

        if tower not in TOWERS:
            raise ValueError(f"unknown tower {tower!r}; choose one of {sorted(TOWERS)}")
        self._base = keras_tuner.HyperModel
        self.input_shape = tuple(input_shape)
        self.space = {k: list(v) for k, v in space.items()}
        for name, values in self.space.items():
            if not values:
                raise ValueError(f"space[{name!r}] has no values")
        self.tower, self.tower_kwargs, self.seed = tower, dict(tower_kwargs or {}), seed
        self.augmentation = augmentation

    def build(self, hp):
        from .training import build_pair_model

        chosen = {name: hp.Choice(name, values) if len(values) > 1 else values[0]
                  for name, values in self.space.items()}
        optimizer = chosen.pop("optimizer", "adam")
        learning_rate = chosen.pop("learning_rate", 6e-5)
        return build_pair_model(self.tower, self.input_shape, tower_kwargs={**self.tower_kwargs, **chosen},
                                optimizer=optimizer, learning_rate=learning_rate,
                                augmentation=self.augmentation, seed=self.seed)

    def as_keras_tuner(self):
        """The same builder as a ``keras_tuner.HyperModel`` instance."""
        outer = self

        class _HM(self._base):
            def build(self, hp):
                return outer.build(hp)

        return _HM(name="lfw_pair")
