"""Training helpers: a validation split from the training pairs only, the best
epoch chosen on validation (never on test), wall-clock caps, NaN guard, and a
history table that the plots read."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ._tf import keras as _keras
from .augmentation import Augmentation
from .data.containers import PairSet
from .datasets import pair_dataset
from .evaluation import accuracy_at, best_threshold, pair_scores, roc_auc
from .models import build_tower, siamese_pair_model, with_augmentation

__all__ = [
    "FitResult",
    "PairExperiment",
    "build_pair_model",
    "image_input_shape",
    "score_pair_model",
    "train_pair_model",
    "KeepBest",
    "TimeLimit",
    "compile_model",
    "compile_pair_model",
    "fit_pair_model",
    "fit_identity_slice",
    "fit_margin_softmax",
    "fit_slice",
    "split_validation",
]


def split_validation(pairs: PairSet | np.ndarray, n_validation: int, *,
                     seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Split pair indices into training and validation, balanced by label.

    Validation comes from the *training* pairs only, so the test set is never
    used to choose anything.

    Parameters
    ----------
    pairs : PairSet or numpy.ndarray
        The pairs, or just their labels (1 = same).
    n_validation : int
        Validation pairs (half same, half different, rounding the extra to "same").
    seed : int

    Returns
    -------
    train_index, validation_index : numpy.ndarray
    """
    labels = np.asarray(pairs.labels if isinstance(pairs, PairSet) else pairs).ravel()
    if not 0 < n_validation < len(labels):
        raise ValueError(f"n_validation must be between 1 and {len(labels) - 1}, got {n_validation}")
    rng = np.random.default_rng(seed)
    same = rng.permutation(np.flatnonzero(labels == 1))
    diff = rng.permutation(np.flatnonzero(labels == 0))
    n_same = (n_validation + 1) // 2
    n_diff = n_validation - n_same
    if n_same > len(same) or n_diff > len(diff):
        raise ValueError("not enough pairs of each label for that validation size")
    val = np.sort(np.concatenate([same[:n_same], diff[:n_diff]]))
    train = np.setdiff1d(np.arange(len(labels)), val)
    return train, val


class KeepBest(_keras().callbacks.Callback):
    """Remember the weights of the best epoch by ``monitor`` and restore them at the end.

    Parameters
    ----------
    monitor : str
        A metric of the *validation* data, e.g. ``"val_loss"`` or ``"val_accuracy"``.
    mode : {"min", "max"}
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "min"):
        super().__init__()
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if not monitor.startswith("val_"):
            raise ValueError(f"choose the best epoch on validation data: monitor must start with 'val_', "
                             f"got {monitor!r}")
        self.monitor, self.mode = monitor, mode
        self.best = None
        self.best_epoch = None
        self._weights = None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or not np.isfinite(value):
            return
        better = self.best is None or (value < self.best if self.mode == "min" else value > self.best)
        if better:
            self.best, self.best_epoch = float(value), epoch
            self._weights = [w.copy() for w in self.model.get_weights()]

    def on_train_end(self, logs=None):
        if self._weights is not None:
            self.model.set_weights(self._weights)


class TimeLimit(_keras().callbacks.Callback):
    """Stop training after ``seconds`` of wall-clock time (checked after each batch)."""

    def __init__(self, seconds: float | None):
        super().__init__()
        self.seconds = seconds
        self.stopped_early = False
        self._start = None

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if self.seconds is not None and time.perf_counter() - self._start > self.seconds:
            self.model.stop_training = True
            self.stopped_early = True


@dataclasses.dataclass
class FitResult:
    """What :func:`fit_pair_model` returns.

    Attributes
    ----------
    history : pandas.DataFrame
        One row per epoch: ``epoch`` (1-based), ``loss``, ``accuracy``,
        ``val_loss``, ``val_accuracy`` and any extra evaluation columns.
    best_epoch : int
        1-based epoch whose weights the model now holds (best validation).
    seconds : float
        Training wall-clock time.
    stopped_by_time : bool
        True when the time cap ended training early.
    """

    history: pd.DataFrame
    best_epoch: int
    seconds: float
    stopped_by_time: bool


def _pair_index(index, n: int, what: str) -> np.ndarray:
    """``index`` as int64 positions into ``n`` pairs: integers (or a boolean mask), in range, non-empty."""
    index = np.asarray(index)
    if index.dtype == bool:
        if index.shape != (n,):
            raise ValueError(f"{what} as a boolean mask must have shape ({n},), got {index.shape}")
        index = np.flatnonzero(index)
    if index.ndim != 1 or index.size == 0:
        raise ValueError(f"{what} must be a non-empty 1-D array of pair positions, got shape {index.shape}")
    if not np.issubdtype(index.dtype, np.integer):
        raise TypeError(f"{what} must hold integers (pair positions), got {index.dtype}; "
                        "floats would be truncated silently")
    if index.min() < 0 or index.max() >= n:
        raise ValueError(f"{what} must be in [0, {n}), got values from {index.min()} to {index.max()}")
    return index.astype(np.int64)


def compile_model(model, *, optimizer, loss, metrics: list | None = None) -> None:
    """Compile ``model`` and create its optimizer's state now, not in the first step.

    Keras's TensorFlow backend otherwise creates the optimizer's variables (Adam's
    moments, for instance) while it traces the first training step, and TensorFlow
    then traces that step a second time, because a traced function may only create
    variables on its first trace. Built here, the step is traced once, and training
    gives the same weights bit for bit. On the 2-core CI machine two epochs of a pair
    model with chapter 2's last-rung tower on 1,000 random 31x31 pairs took 6.5 s instead
    of 7.6 s. A model that is not built yet (a ``Sequential`` without an input shape) is
    only compiled, and Keras builds its optimizer as before.

    Parameters
    ----------
    model : keras.Model
    optimizer : keras.optimizers.Optimizer
        An optimizer instance (a name would leave its settings to Keras's defaults
        here without saying so).
    loss : keras.losses.Loss or callable
    metrics : list of keras.metrics.Metric or None
        Metric objects. (Keras resolves metric *names* such as ``"mae"`` inside the
        first step too, which would trace it twice again.)
    """
    keras = _keras()
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise TypeError(f"optimizer must be a keras.optimizers.Optimizer instance, got {optimizer!r}")
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    if model.built and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)


def compile_pair_model(model, *, optimizer: str = "adam", learning_rate: float = 6e-5) -> None:
    """Compile a pair model with binary cross-entropy and accuracy at 0.5.

    Parameters
    ----------
    optimizer : {"adam", "rmsprop", "sgd"}
    learning_rate : float
    """
    keras = _keras()
    optimizers = {"adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop,
                  "sgd": lambda learning_rate: keras.optimizers.SGD(learning_rate, momentum=0.9)}
    if optimizer not in optimizers:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {sorted(optimizers)}")
    compile_model(model, optimizer=optimizers[optimizer](learning_rate=learning_rate),
                  loss=keras.losses.BinaryCrossentropy(),
                  metrics=[keras.metrics.BinaryAccuracy(name="accuracy")])


def fit_pair_model(
    model,
    pairs: PairSet,
    train_index,
    validation_index,
    *,
    epochs: int,
    batch_size: int = 64,
    seed: int = 0,
    max_seconds: float | None = None,
    monitor: str = "val_loss",
    extra_eval: dict | None = None,
    verbose: int | str = "auto",
) -> FitResult:
    """Train a compiled pair model; keep the epoch that is best on validation.

    Parameters
    ----------
    model : keras.Model
        Compiled (see :func:`compile_pair_model`).
    pairs : PairSet
        Training pairs; ``train_index`` and ``validation_index`` select from it
        (see :func:`split_validation`).
    epochs, batch_size : int
    seed : int
        Seed of shuffling. (Distortions of the training images, if any, are a layer
        of ``model``: see :func:`~siamese_lessons.models.with_augmentation`.)
    max_seconds : float or None
        Wall-clock cap; training stops after the batch that crosses it.
    monitor : str
        Validation metric that picks the best epoch.
    extra_eval : dict of str to (PairSet, index) or None
        More pair sets scored after every epoch *for plotting only* (e.g. the
        test set, to show what choosing epochs on it would do); they never
        influence which weights are kept.
    verbose : int or "auto"
        Keras progress output.

    Returns
    -------
    FitResult
    """
    keras = _keras()
    if int(epochs) < 1 or int(batch_size) < 1:
        raise ValueError(f"epochs and batch_size must be positive integers, got {epochs} and {batch_size}")
    train_index = _pair_index(train_index, len(pairs), "train_index")
    validation_index = _pair_index(validation_index, len(pairs), "validation_index")
    overlap = np.intersect1d(train_index, validation_index)
    if len(overlap):
        raise ValueError(f"{len(overlap)} pairs are in both train_index and validation_index (the first: "
                         f"{overlap[0]}); validation must be held out of training")
    train_ds = pair_dataset(pairs, train_index, batch_size=batch_size, shuffle=True, seed=seed)
    val_ds = pair_dataset(pairs, validation_index, batch_size=batch_size)
    keep = KeepBest(monitor, "min" if "loss" in monitor else "max")
    limit = TimeLimit(max_seconds)
    extra_rows: list[dict] = []

    class _Extra(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            row = {}
            for name, (pset, idx) in (extra_eval or {}).items():
                ds = pair_dataset(pset, idx, batch_size=batch_size)
                loss, acc = self.model.evaluate(ds, verbose=0)[:2]
                row[f"{name}_loss"], row[f"{name}_accuracy"] = loss, acc
            extra_rows.append(row)

    start = time.perf_counter()
    hist = model.fit(train_ds, validation_data=val_ds, epochs=epochs, verbose=verbose, shuffle=False,
                     callbacks=[keep, limit, _Extra(), keras.callbacks.TerminateOnNaN()])
    seconds = time.perf_counter() - start
    frame = pd.DataFrame(hist.history)
    frame.insert(0, "epoch", np.arange(1, len(frame) + 1))
    if extra_rows:
        frame = pd.concat([frame, pd.DataFrame(extra_rows[: len(frame)])], axis=1)
    if keep.best_epoch is None:
        raise FloatingPointError("training produced no finite validation metric "
                                 f"({monitor}); the loss probably became NaN")
    return FitResult(history=frame, best_epoch=keep.best_epoch + 1, seconds=seconds,
                     stopped_by_time=limit.stopped_early)


def _forward(model, inputs, mode: str) -> np.ndarray:
    """The model's output in ``mode``: ``"inference"`` (``predict``: batch norm uses its moving
    averages) or ``"training"`` (batch statistics, as the optimiser sees them; the moving
    averages and any other non-trainable state are put back afterwards)."""
    if mode == "inference":
        return np.asarray(model.predict(inputs, verbose=0))
    state = [np.array(v) for v in model.non_trainable_variables]
    out = np.asarray(model(inputs, training=True))
    for variable, value in zip(model.non_trainable_variables, state, strict=True):
        variable.assign(value)
    return out


def _check_mode(mode: str) -> None:
    if mode not in ("training", "inference"):
        raise ValueError(f"mode must be 'training' or 'inference', got {mode!r}")


def fit_slice(model, pairs: PairSet, *, steps: int, batch_size: int, every: int = 5,
              output: str = "probability", mode: str = "training") -> pd.DataFrame:
    """Train a compiled pair model on one small slice of pairs and watch it learn.

    The quickest check that a configuration can learn at all: a model that cannot
    fit a few dozen pairs it sees over and over will not learn from millions.
    Batches cycle through ``pairs`` in order, without augmentation.

    Parameters
    ----------
    model : keras.Model
        Compiled pair model: inputs ``[left, right]``, one output per pair.
    pairs : PairSet
        The slice (all of its pairs are used).
    steps, batch_size : int
        Training steps and pairs per step.
    every : int
        Measure after every ``every`` steps (and before the first).
    output : {"probability", "distance"}
        What the model outputs: P(same) (a sigmoid pair model, scored at 0.5) or a
        distance (lower = same, e.g. a contrastive model).
    mode : {"training", "inference"}
        How the slice is measured: with batch statistics, as the optimiser sees it
        (the question is whether it *can* fit the slice; dropout is active), or as
        ``predict`` would (batch norm's moving averages lag for many steps).

    Returns
    -------
    pandas.DataFrame
        One row per measurement: ``step``; ``data_loss``, the compiled loss on the
        whole slice (binary cross-entropy, contrastive, ...); ``penalty``, the sum of
        the weight penalties, the rest of the training loss; ``auc``, the slice's
        ROC AUC; for probabilities also ``accuracy`` at 0.5.
    """
    if steps < 1 or batch_size < 1 or every < 1:
        raise ValueError(f"steps, batch_size and every must be positive, got {steps}, {batch_size}, {every}")
    if output not in ("probability", "distance"):
        raise ValueError(f"output must be 'probability' or 'distance', got {output!r}")
    _check_mode(mode)
    from .evaluation import roc_auc

    left, right, labels = pairs.batch(np.arange(len(pairs)))
    y = labels.astype(np.float32).reshape(-1, 1)

    def measure(step: int) -> dict:
        pred = _forward(model, [left, right], mode).astype(np.float32).reshape(-1, 1)
        row = {"step": step, "data_loss": float(np.asarray(model.loss(y, pred))),
               "penalty": float(sum(float(np.asarray(loss)) for loss in model.losses)),
               "auc": roc_auc(pred.ravel() if output == "probability" else -pred.ravel(), labels)[3]}
        if output == "probability":
            row["accuracy"] = float(np.mean((pred >= 0.5) == (y == 1)))
        return row

    rows = [measure(0)]
    for step in range(1, steps + 1):
        i = np.arange((step - 1) * batch_size, step * batch_size) % len(pairs)
        model.train_on_batch([left[i], right[i]], y[i])
        if step % every == 0 or step == steps:
            rows.append(measure(step))
    return pd.DataFrame(rows)


def fit_identity_slice(embedder, images: np.ndarray, labels, *, steps: int, every: int = 5,
                       mode: str = "training", train_model=None) -> pd.DataFrame:
    """Train a compiled embedder (a mined loss on identity labels, e.g. a triplet loss) on
    one small slice of labelled images, the whole slice as every batch; watch it learn.

    Parameters
    ----------
    embedder : keras.Model
        Compiled with a loss that takes identity labels and embeddings.
    images : numpy.ndarray
        ``uint8`` ``(n, H, W)`` or ``(n, H, W, C)``: a P x K slice.
    labels : array-like
        ``(n,)`` identity of each image.
    steps, every : int
        Training steps, and how often to measure (and before the first).
    mode : {"training", "inference"}
        As in :func:`fit_slice`.
    train_model : keras.Model or None
        The compiled model that is trained, when the loss is not on the embeddings
        themselves: e.g. the embedder under a classifier head (margin softmax).
        ``None``: ``embedder``, compiled.

    Returns
    -------
    pandas.DataFrame
        ``step``, ``data_loss`` (the compiled loss on the slice), ``penalty`` and
        ``auc``: ROC AUC of minus the embedding distance over every pair of the slice
        (same identity = positive).
    """
    if steps < 1 or every < 1:
        raise ValueError(f"steps and every must be positive, got {steps}, {every}")
    _check_mode(mode)
    from .data import as_model_input
    from .evaluation import roc_auc

    x = as_model_input(images)
    y = np.asarray(labels).ravel()
    iu = np.triu_indices(len(y), k=1)
    same = (y[:, None] == y[None, :])[iu].astype(int)
    if same.all() or not same.any():
        raise ValueError("the slice needs at least two identities and one identity with two images")

    model = embedder if train_model is None else train_model

    def measure(step: int) -> dict:
        emb = _forward(embedder, x, mode).astype(np.float64)
        out = emb if model is embedder else _forward(model, x, mode)
        d = np.sqrt(np.maximum(((emb[:, None] - emb[None]) ** 2).sum(-1), 0.0))[iu]
        return {"step": step, "data_loss": float(np.asarray(model.loss(y, np.asarray(out, np.float32)))),
                "penalty": float(sum(float(np.asarray(loss)) for loss in model.losses)),
                "auc": roc_auc(-d, same)[3]}

    rows = [measure(0)]
    for step in range(1, steps + 1):
        model.train_on_batch(x, y)
        if step % every == 0 or step == steps:
            rows.append(measure(step))
    return pd.DataFrame(rows)


def fit_margin_softmax(embedder, images: np.ndarray, labels, batches, *, epochs: int, learning_rate,
                       scale: float = 30.0, margin: float = 0.0, kind: str = "cosface",
                       augmentation: Augmentation | None = None, seed: int = 0, verbose: int | str = 0):
    """Train ``embedder`` as a classifier of ``labels`` with a margin-softmax head, then
    drop the head: normalised softmax (``margin=0``), CosFace or ArcFace.

    A :class:`~siamese_lessons.layers.CosineClassifier` (one learned direction per class)
    goes on top of the embedder, trained with
    :class:`~siamese_lessons.losses.MarginSoftmaxLoss`; the embedder's weights are
    trained in place and the classifier is returned for inspection only.

    Parameters
    ----------
    embedder : keras.Model
        Image to embedding (``uint8`` input, rescaled inside; see
        :func:`~siamese_lessons.datasets.identity_batch_dataset`).
    images : numpy.ndarray
        ``uint8`` images.
    labels : array-like of int
        Class of each image, ``0 .. n_classes - 1``.
    batches : array-like, shape (n_batches, batch_size)
        Image indices of every training step, in order; ``n_batches`` a multiple of ``epochs``.
    epochs : int
        Keras epochs the batches are split into (the history has one row per epoch).
    learning_rate : float or keras.optimizers.schedules.LearningRateSchedule
        Adam's.
    scale, margin, kind
        See :func:`~siamese_lessons.losses.margin_softmax_loss`.
    augmentation : Augmentation or None
        Distortions of the training images, drawn inside the classifier
        (:func:`~siamese_lessons.models.with_augmentation`); the embedder itself
        gets no augmentation layer.
    seed : int
        Seed of the class directions and the distortions.
    verbose : int or "auto"

    Returns
    -------
    classifier : keras.Model
    history : pandas.DataFrame
        Per epoch: ``epoch``, ``loss``, ``accuracy`` (training batches); ``attrs["seconds"]``.
    """
    keras = _keras()
    from .datasets import identity_batch_dataset
    from .layers import CosineClassifier
    from .losses import MarginSoftmaxLoss

    labels = np.asarray(labels).ravel()
    batches = np.asarray(batches)
    if len(labels) != len(images):
        raise ValueError(f"labels must have one entry per image, got {len(labels)} for {len(images)}")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
        raise ValueError("labels must be non-negative integer classes")
    if batches.ndim != 2 or not len(batches) or int(epochs) < 1 or len(batches) % int(epochs):
        raise ValueError(f"batches must be (n_batches, batch_size) with n_batches a multiple of epochs "
                         f"({epochs}), got {batches.shape}")
    classes = int(labels.max()) + 1
    trunk = embedder if augmentation is None else with_augmentation(embedder, augmentation, seed=seed)
    classifier = keras.Sequential([trunk, CosineClassifier(classes, seed=seed, name="classes")],
                                  name="margin_softmax_classifier")
    compile_model(classifier, optimizer=keras.optimizers.Adam(learning_rate),
                  loss=MarginSoftmaxLoss(scale=scale, margin=margin, kind=kind),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    start = time.perf_counter()
    data = identity_batch_dataset(images, labels, batches)
    hist = classifier.fit(data, epochs=int(epochs), steps_per_epoch=len(batches) // int(epochs),
                          verbose=verbose, shuffle=False, callbacks=[keras.callbacks.TerminateOnNaN()])
    frame = pd.DataFrame(hist.history)
    frame.insert(0, "epoch", np.arange(1, len(frame) + 1))
    frame.attrs["seconds"] = time.perf_counter() - start
    return classifier, frame


def image_input_shape(images: np.ndarray) -> tuple[int, ...]:
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
                     augmentation: Augmentation | None = None, fill_value: float = 0.0, seed: int = 0):
    """A compiled, untrained pair model: ``tower`` (a name from
    :data:`~siamese_lessons.models.TOWERS`) with ``tower_kwargs``, ``distance`` and a
    sigmoid head. Built twice with the same seed it has the same weights, which is
    how a trained model's *untrained twin* is made.

    With ``augmentation``, each branch distorts its training images inside the model
    (:func:`~siamese_lessons.models.with_augmentation`, ``fill_value`` for the borders);
    the weights are the same as without it."""
    import keras

    keras.utils.set_random_seed(seed)
    net = build_tower(tower, input_shape, seed=seed, **dict(tower_kwargs or {}))
    if augmentation is not None and not augmentation.is_identity:
        net = with_augmentation(net, augmentation, fill_value=fill_value, seed=seed)
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
    distance, optimizer, learning_rate, augmentation, fill_value
        As in :func:`build_pair_model`.
    batch_size, epochs, seed, max_seconds
        As in :func:`fit_pair_model`.
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
                             optimizer=optimizer, learning_rate=learning_rate, augmentation=augmentation,
                             fill_value=fill_value, seed=seed)
    extra = {"test": test} if (track_test and test is not None) else None
    fit = fit_pair_model(model, train, train_index, validation_index, epochs=epochs, batch_size=batch_size,
                         seed=seed, max_seconds=max_seconds, extra_eval=extra, verbose=verbose)
    threshold, metrics, tscores = score_pair_model(model, (train, np.asarray(validation_index)), test)
    metrics.update(best_epoch=fit.best_epoch, epochs_run=len(fit.history), train_seconds=fit.seconds,
                   parameters=int(model.count_params()))
    return PairExperiment(model=model, fit=fit, threshold=threshold, metrics=metrics, test_scores=tscores,
                          test_set=None if test is None else test[0],
                          test_index=None if test is None else np.asarray(test[1]))
