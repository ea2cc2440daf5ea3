"""Training at scale with ``tf.distribute``: strategies, mixed precision, resumable steps.

:func:`make_strategy` picks the standard ``tf.distribute`` strategy for where the
process runs: the default strategy on one device, ``MirroredStrategy`` across
the GPUs of one machine, ``MultiWorkerMirroredStrategy`` across machines
described by ``TF_CONFIG``. :func:`train_steps` is a custom training loop over
that strategy: each replica computes the loss of its per-replica batch, the
gradients are all-reduced (summed) by the optimizer, so the update is the one a
single device would make on the global batch (per-replica batch x replicas).

Why a loop and not ``Model.fit``: Keras 3's ``fit`` does not run under
``MultiWorkerMirroredStrategy`` (keras-team/keras#20585: it reduces the first
batch and scalar metrics across workers with an invalid axis), and its
``BackupAndRestore`` callback restores only whole epochs. The loop keeps
the same model, loss and optimizer objects and checkpoints with
``tf.train.CheckpointManager`` (what ``BackupAndRestore`` is built on in
``tf.keras``): the step counter, the weights and the optimizer state every
``checkpoint_every`` steps, restored automatically when the same command
starts again, so a crash costs at most one interval. Only the chief worker
writes the real checkpoint; the others write to a scratch folder that is
deleted, as ``tf.distribute`` requires every worker to save.

Needs the TensorFlow backend.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import os
import re
import shutil
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ._tf import keras as _keras
from ._tf import quiet_tf_logger, tensorflow
from .errors import CheckpointError, CheckpointFallbackWarning

__all__ = [
    "PRECISIONS",
    "STRATEGIES",
    "TrainResult",
    "WorkerInfo",
    "checkpoint_numbers",
    "make_strategy",
    "restore_newest",
    "set_precision",
    "train_steps",
    "worker_info",
]

#: Names :func:`make_strategy` accepts.
STRATEGIES = ("auto", "default", "mirrored", "multiworker")
#: Seconds :func:`make_strategy` waits for every ``TF_CONFIG`` peer to answer.
PEER_TIMEOUT_S = 300.0
#: Keras dtype policies :func:`set_precision` accepts.
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


def _tf_config() -> dict:
    raw = os.environ.get("TF_CONFIG", "")
    if not raw:
        return {}
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ValueError(f"TF_CONFIG is not valid JSON ({err}): {raw[:200]!r}") from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    workers = cluster.get("worker") if isinstance(cluster, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    if (not isinstance(workers, list) or not workers or not all(isinstance(w, str) for w in workers)
            or not isinstance(task, dict) or task.get("type") not in ("worker", "chief")
            or not isinstance(task.get("index"), int) or not 0 <= task["index"] < len(workers)):
        raise ValueError("TF_CONFIG must name the cluster's workers and this task, e.g. "
                         '{"cluster": {"worker": ["host1:port", "host2:port"]}, '
                         '"task": {"type": "worker", "index": 0}}; got ' + raw[:200])
    return config


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"TF_CONFIG address {address!r} is not host:port")
    return host.strip("[]"), int(port)


def wait_for_peers(config: dict, timeout: float = PEER_TIMEOUT_S, *, poll: float = 0.25) -> None:
    """Block until every other worker of ``config`` (a parsed ``TF_CONFIG``) and this one
    have reached each other over TCP, or raise after ``timeout`` seconds.

    TensorFlow's ``MultiWorkerMirroredStrategy()`` waits for its peers inside C++ code
    that holds the interpreter, forever and silently; this check runs first, in Python.
    Each worker listens on its own address, sends its address to every peer's, and
    frees its port for TensorFlow's server once it has reached every peer *and* heard
    from every peer, so no worker leaves a peer behind still waiting to hear from it.

    Raises
    ------
    PeerUnreachableError
        Naming the workers that did not answer (a ``ConnectionError``).
    OSError
        When this worker cannot listen on its own address (for example, it is in use).
    """
    import select
    import socket

    from .errors import PeerUnreachableError

    if not timeout > 0:
        raise ValueError(f"peer timeout must be positive seconds, got {timeout!r}")
    cluster, task = config["cluster"], config["task"]
    own = cluster[task["type"]][task["index"]]
    peers = {a for kind in ("chief", "worker") for a in cluster.get(kind, []) if a != own}
    if not peers:
        return
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("", _host_port(own)[1]))
        listener.listen(64)
    except OSError as err:
        listener.close()
        raise OSError(f"this worker cannot listen on its TF_CONFIG address {own}: "
                      f"{err.strerror or err}") from None
    unreached, unheard = set(peers), set(peers)
    deadline = time.monotonic() + timeout
    try:
        while unreached or unheard:
            for address in sorted(unreached):
                try:
                    with socket.create_connection(_host_port(address), timeout=1.0) as conn:
                        conn.sendall(own.encode() + b"\n")
                    unreached.discard(address)
                except OSError:
                    pass
            while select.select([listener], [], [], 0)[0]:
                conn, _ = listener.accept()
                with conn:
                    conn.settimeout(1.0)
                    try:
                        unheard.discard(conn.recv(256).decode(errors="replace").strip())
                    except OSError:
                        pass
            if unreached or unheard:
                if time.monotonic() >= deadline:
                    raise PeerUnreachableError(sorted(unreached | unheard), timeout)
                time.sleep(poll)
    finally:
        listener.close()


def make_strategy(name: str = "auto", *, peer_timeout: float = PEER_TIMEOUT_S):
    """Return a ``tf.distribute`` strategy by name.

    Parameters
    ----------
    name : {"auto", "default", "mirrored", "multiworker"}
        ``"default"``: one device (``tf.distribute.get_strategy()``).
        ``"mirrored"``: ``MirroredStrategy`` over every GPU of this machine
        (over the CPU when there is none). ``"multiworker"``:
        ``MultiWorkerMirroredStrategy`` over the cluster in ``TF_CONFIG``.
        ``"auto"``: multiworker when ``TF_CONFIG`` lists two or more workers,
        else mirrored when there are two or more GPUs, else default.
    peer_timeout : float
        Multiworker: seconds to wait for every other worker to answer before
        raising :class:`~siamese_lessons.errors.PeerUnreachableError` (see
        :func:`wait_for_peers`), instead of hanging without a word.

    Returns
    -------
    tf.distribute.Strategy

    Raises
    ------
    ValueError
        For an unknown name, or ``"multiworker"`` without a valid ``TF_CONFIG``.

    Notes
    -----
    Create the strategy first thing in the process: ``MultiWorkerMirroredStrategy``
    must exist before any other TensorFlow operation runs.
    """
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; choose one of {list(STRATEGIES)}")
    config = _tf_config()
    tf = tensorflow()
    if name == "auto":
        cluster = config.get("cluster", {})
        if len(cluster.get("worker", [])) + len(cluster.get("chief", [])) > 1:
            name = "multiworker"
        elif len(tf.config.list_physical_devices("GPU")) > 1:
            name = "mirrored"
        else:
            name = "default"
    if name == "multiworker":
        if not config:
            raise ValueError("strategy 'multiworker' needs TF_CONFIG describing the cluster, e.g. "
                             '{"cluster": {"worker": ["10.0.0.1:12345", "10.0.0.2:12345"]}, '
                             '"task": {"type": "worker", "index": 0}}')
        wait_for_peers(config, peer_timeout)
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


@dataclasses.dataclass(frozen=True)
class WorkerInfo:
    """Where this process sits in the cluster.

    Attributes
    ----------
    task_type : str or None
    task_id : int
    is_chief : bool
        The one worker that writes checkpoints, logs and the final model.
    num_workers : int
    """

    task_type: str | None
    task_id: int
    is_chief: bool
    num_workers: int


def worker_info(strategy) -> WorkerInfo:
    """The :class:`WorkerInfo` of this process under ``strategy``."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return WorkerInfo(None, 0, True, 1)
    spec = resolver.cluster_spec().as_dict()
    task_type, task_id = resolver.task_type, int(resolver.task_id or 0)
    has_chief = "chief" in spec
    is_chief = task_type == "chief" or (not has_chief and task_type == "worker" and task_id == 0)
    return WorkerInfo(task_type, task_id, is_chief, sum(len(v) for v in spec.values()))


def set_precision(policy: str) -> None:
    """Set Keras's global dtype policy (call before building the model).

    ``"mixed_float16"`` (GPUs with tensor cores; :func:`train_steps` adds loss
    scaling) and ``"mixed_bfloat16"`` (GPUs from Ampere on, TPUs, recent CPUs)
    compute in 16 bits and keep weights in float32.
    """
    if policy not in PRECISIONS:
        raise ValueError(f"unknown precision {policy!r}; choose one of {list(PRECISIONS)}")
    _keras().mixed_precision.set_global_policy(policy)


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """What :func:`train_steps` did.

    Attributes
    ----------
    history : pandas.DataFrame
        One row per logged step: ``step``, ``loss``, ``images_per_s``, ``seconds``.
    start_step : int
        Step restored from the checkpoint (0 for a fresh run).
    final_step : int
    seconds : float
        Wall-clock time of this call's training steps.
    replicas : int
        Replicas in sync (global batch = per-replica batch x replicas).
    checkpoint : str or None
        Latest checkpoint written by this process.
    model : keras.Model
        The trained model.
    """

    history: pd.DataFrame
    start_step: int
    final_step: int
    seconds: float
    replicas: int
    checkpoint: str | None
    model: object = dataclasses.field(repr=False, default=None)


_CKPT = re.compile(r"^ckpt-(\d+)\.(index|data-\d+-of-\d+)$")


def checkpoint_numbers(directory: str | os.PathLike) -> list[int]:
    """Step numbers of the checkpoints in ``directory`` (``ckpt-N.index`` or ``ckpt-N.data-*``
    files), newest first. The ``checkpoint`` state file is not read: it may be damaged."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    numbers = {int(m.group(1)) for f in directory.iterdir() if (m := _CKPT.match(f.name))}
    return sorted(numbers, reverse=True)


def restore_newest(checkpoint, directory: str | os.PathLike) -> tuple[int | None, list[str]]:
    """Restore ``checkpoint`` from the newest checkpoint in ``directory`` that loads.

    Returns
    -------
    number : int or None
        The checkpoint restored (``None``: there is none, a fresh start).
    skipped : list of str
        The newer checkpoints that could not be restored, each with the reason.

    Raises
    ------
    CheckpointError
        If checkpoints exist but none can be restored (nothing is deleted).
    """
    tf = tensorflow()
    directory = Path(directory)
    skipped = []
    for number in checkpoint_numbers(directory):
        prefix = directory / f"ckpt-{number}"
        try:
            checkpoint.restore(str(prefix)).assert_existing_objects_matched()
            return number, skipped
        except (tf.errors.OpError, ValueError, AssertionError, IndexError) as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            skipped.append(f"ckpt-{number}: {type(exc).__name__}: {reason}")
    if skipped:
        raise CheckpointError(str(directory), skipped)
    return None, []


def _delete_checkpoint(directory: Path, number: int) -> None:
    for f in Path(directory).glob(f"ckpt-{number}.*"):
        f.unlink()


def _verify_and_prune(saved: str, directory: Path, step: int, keep: int = 2) -> None:
    """Check that the checkpoint just written reads back (index and data, step value), then
    delete all but the ``keep`` newest checkpoints; older ones are never deleted before
    a newer one is verified."""
    tf = tensorflow()
    reader = tf.train.load_checkpoint(saved)
    key = next(k for k in reader.get_variable_to_shape_map() if k.startswith("step/"))
    held = int(reader.get_tensor(key))
    if held != step:
        raise CheckpointError(str(directory), [f"{Path(saved).name} holds step {held}, not {step}"])
    numbers = checkpoint_numbers(directory)
    kept = numbers[:keep]
    for number in numbers[keep:]:
        _delete_checkpoint(directory, number)
    # The state file CheckpointManager reads, listing only the kept checkpoints. Its writer is
    # deprecated in TensorFlow 2 (in favour of the manager, which cannot verify before it prunes)
    # and says so in a log line naming this file on first use: hush that line.
    with quiet_tf_logger():
        tf.compat.v1.train.update_checkpoint_state(str(directory), saved,
                                                   all_model_checkpoint_paths=[str(directory / f"ckpt-{n}")
                                                                               for n in reversed(kept)])


def _drop_replayed_history(history_path: str | os.PathLike, start_step: int) -> None:
    """On a resume from ``start_step``, drop logged steps after it: they are trained again."""
    path = Path(history_path)
    if not path.is_file():
        return
    lines = path.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if line.strip() and json.loads(line).get("step", 0) <= start_step]
    if len(kept) != len([line for line in lines if line.strip()]):
        path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")


def train_steps(
    build: Callable,
    make_dataset: Callable,
    *,
    strategy,
    steps: int,
    images_per_step: int,
    checkpoint_dir: str | os.PathLike | None = None,
    checkpoint_every: int = 100,
    log_dir: str | os.PathLike | None = None,
    history_path: str | os.PathLike | None = None,
    log_every: int = 10,
    xla: bool = False,
    max_seconds: float | None = None,
    progress: bool = True,
    restart: bool = False,
) -> TrainResult:
    """Train for ``steps`` global steps under ``strategy``, resuming from a checkpoint.

    On a resume the newest checkpoint that loads is restored; a damaged newer one
    is skipped with a :class:`~siamese_lessons.errors.CheckpointFallbackWarning`,
    and when checkpoints exist but none loads a
    :class:`~siamese_lessons.errors.CheckpointError` names the folder. A new
    checkpoint is read back before older ones are deleted (the two newest are
    kept). Steps logged after the restored one are dropped from ``history_path``,
    since they are trained again.

    Parameters
    ----------
    build : callable
        ``build() -> (model, loss, optimizer)``, called inside
        ``strategy.scope()`` so every variable is created mirrored. ``loss``
        is a Keras loss (its unreduced ``loss.call(y_true, y_pred)`` values are
        averaged over the per-replica batch in float32) or any function
        returning per-example or mean values; the model's regularisation
        losses are added.
    make_dataset : callable
        ``make_dataset(input_context) -> tf.data.Dataset`` of
        ``(x, y)`` batches of the per-replica size
        (``input_context.get_per_replica_batch_size(global_batch)``), reading its
        share (``input_context.input_pipeline_id`` of
        ``input_context.num_input_pipelines``); endless. If it takes a second
        argument, it gets the step training starts (or resumes) from, so that a
        resumed run can draw a new stream instead of replaying the first batches.
    strategy : tf.distribute.Strategy
        From :func:`make_strategy`.
    steps : int
        Total optimizer steps of the run (a resumed run does the rest).
    images_per_step : int
        Images in one global batch (a pair counts two), for the images/s figure.
    checkpoint_dir : path-like or None
        Checkpoints (step, weights, optimizer state) every ``checkpoint_every``
        steps and at the end; an existing checkpoint here is restored first.
    checkpoint_every : int
    log_dir : path-like or None
        TensorBoard scalars (loss, images/s) from the chief.
    history_path : path-like or None
        JSON-lines log of every ``log_every``-th step (appended, flushed).
    log_every : int
    xla : bool
        Compile the forward and backward pass with XLA (``jit_compile``).
    max_seconds : float or None
        Stop (after a checkpoint) once this wall-clock time has passed.
    progress : bool
        Keras progress bar on the chief.
    restart : bool
        Delete the checkpoints in ``checkpoint_dir`` (and the history) and start from
        step 0, instead of resuming.

    Returns
    -------
    TrainResult

    Raises
    ------
    FloatingPointError
        If the loss becomes NaN or infinite; the last checkpoint (before it) is kept.
    """
    if steps < 1 or checkpoint_every < 1 or log_every < 1:
        raise ValueError(f"steps, checkpoint_every and log_every must be positive, got "
                         f"{steps}, {checkpoint_every}, {log_every}")
    info = worker_info(strategy)
    model, loss_fn, optimizer, step = _build_in_scope(build, strategy)
    checkpoints = _Checkpoints(tensorflow().train.Checkpoint(model=model, optimizer=optimizer, step=step),
                               checkpoint_dir, info, restart=restart, history_path=history_path)
    start_step = int(step.numpy())
    if history_path and info.is_chief:
        _drop_replayed_history(history_path, start_step)
    iterator = iter(_distribute(make_dataset, strategy, start_step))
    train_step = _make_train_step(model, loss_fn, optimizer, strategy, xla=xla)
    logger = _StepLogger(steps, start_step, images_per_step, is_chief=info.is_chief, log_dir=log_dir,
                         history_path=history_path, progress=progress)
    s = start_step
    try:
        while s < steps:
            loss = float(train_step(iterator))
            step.assign_add(1)
            s += 1
            _check_finite(loss, s, checkpoints.saved)
            done = s >= steps or (max_seconds is not None and logger.elapsed() > max_seconds)
            if s % log_every == 0 or done:
                logger.log(s, loss)
            if s % checkpoint_every == 0 or done:
                checkpoints.save(s)
            if done:
                break
    finally:
        logger.close()
        checkpoints.close()
    return TrainResult(history=logger.history(), start_step=start_step, final_step=s,
                       seconds=logger.elapsed(), replicas=strategy.num_replicas_in_sync,
                       checkpoint=checkpoints.saved, model=model)


# --- The pieces of train_steps ------------------------------------------------------------


def _build_in_scope(build: Callable, strategy):
    """``build()`` inside ``strategy.scope()``: the model, loss and optimizer (wrapped for loss
    scaling under ``mixed_float16``, built so its slots exist before a restore), and the
    global step counter."""
    tf = tensorflow()
    keras = _keras()
    with strategy.scope():
        model, loss_fn, optimizer = build()
        if keras.mixed_precision.global_policy().name == "mixed_float16" and not isinstance(
                optimizer, keras.optimizers.LossScaleOptimizer):
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        optimizer.build(model.trainable_variables)
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
    return model, loss_fn, optimizer, step


class _Checkpoints:
    """The run's checkpoints: restart or restore on creation, verified saves, scratch cleanup.

    Without a ``directory`` every method does nothing. A worker other than the chief saves
    to a scratch folder of its own (``tf.distribute`` needs every worker to save), deleted
    by :meth:`close`; every worker restores the chief's checkpoint.
    """

    def __init__(self, checkpoint, directory, info: WorkerInfo, *, restart: bool, history_path) -> None:
        self.manager, self.scratch, self.saved = None, None, None
        if directory is None:
            return
        directory = Path(directory)
        target = directory
        if not info.is_chief:
            self.scratch = target = directory / f"worker-{info.task_id}-scratch"
        if restart and info.is_chief:
            for number in checkpoint_numbers(directory):
                _delete_checkpoint(directory, number)
            (directory / "checkpoint").unlink(missing_ok=True)
            if history_path:
                Path(history_path).unlink(missing_ok=True)
        self.manager = tensorflow().train.CheckpointManager(checkpoint, str(target), max_to_keep=None)
        restored, skipped = restore_newest(checkpoint, directory)
        if skipped:
            warnings.warn(f"newest checkpoint(s) in {directory} could not be restored "
                          f"({'; '.join(skipped)}); resumed from ckpt-{restored}",
                          CheckpointFallbackWarning, stacklevel=3)

    def save(self, step: int) -> None:
        """Save at ``step``, read it back, then prune all but the two newest."""
        if self.manager is None:
            return
        self.saved = self.manager.save(checkpoint_number=step)
        _verify_and_prune(self.saved, Path(self.manager.directory), step)

    def close(self) -> None:
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.saved = None


def _distribute(make_dataset: Callable, strategy, start_step: int):
    """The distributed dataset; ``make_dataset`` gets the start step when it takes two arguments."""
    if len(inspect.signature(make_dataset).parameters) >= 2:
        return strategy.distribute_datasets_from_function(lambda context: make_dataset(context, start_step))
    return strategy.distribute_datasets_from_function(make_dataset)


def _make_train_step(model, loss_fn, optimizer, strategy, *, xla: bool) -> Callable:
    """One synchronous step: each replica's mean loss over its batch (plus the model's
    regularisation losses), divided by the replica count so that the summed gradients are
    those of the global batch; loss-scaled when the optimizer is a ``LossScaleOptimizer``.
    Returns a ``tf.function`` of the iterator giving the global loss."""
    tf = tensorflow()
    keras = _keras()
    replicas = strategy.num_replicas_in_sync
    scale_loss = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)

    def per_replica_mean(y, pred):
        # Keras's Loss.__call__ already divides by the replica count for some reductions and not for
        # others (scalar losses); take the unreduced values and average them here instead.
        if isinstance(loss_fn, keras.losses.Loss):
            values = loss_fn.call(y, tf.cast(pred, tf.float32))
        else:
            values = loss_fn(y, pred)
        return tf.reduce_mean(tf.cast(values, tf.float32))

    def forward_backward(x, y):
        with tf.GradientTape() as tape:
            pred = model(x, training=True)
            loss = per_replica_mean(y, pred)
            if model.losses:
                loss = loss + tf.add_n([tf.cast(v, loss.dtype) for v in model.losses])
            loss = loss / replicas
            scaled = optimizer.scale_loss(loss) if scale_loss else loss
        return loss, tape.gradient(scaled, model.trainable_variables)

    grads_fn = tf.function(forward_backward, jit_compile=True) if xla else forward_backward

    def replica_step(x, y):
        loss, grads = grads_fn(x, y)
        optimizer.apply(grads, model.trainable_variables)
        return loss

    @tf.function
    def train_step(iterator):
        x, y = next(iterator)
        per_replica = strategy.run(replica_step, args=(x, y))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    return train_step


def _check_finite(loss: float, step: int, saved: str | None) -> None:
    """The NaN guard: stop at a non-finite loss, before it is checkpointed."""
    if not math.isfinite(loss):
        raise FloatingPointError(
            f"the loss became {loss} at step {step}; weights of the last checkpoint "
            f"({saved or 'none'}) are kept. Lower the learning "
            "rate, or use mixed_bfloat16 instead of mixed_float16.")


class _StepLogger:
    """Logged steps: rows in memory and, on the chief, the JSON-lines history, TensorBoard
    scalars and a progress bar. ``images_per_s`` is measured since the previous logged step."""

    COLUMNS = ("step", "loss", "images_per_s", "seconds")

    def __init__(self, steps: int, start_step: int, images_per_step: int, *, is_chief: bool, log_dir,
                 history_path, progress: bool) -> None:
        tf = tensorflow()
        keras = _keras()
        self.images_per_step = images_per_step
        self.writer = tf.summary.create_file_writer(str(log_dir)) if (log_dir and is_chief) else None
        self.file = open(history_path, "a", encoding="utf-8") if (history_path and is_chief) else None
        self.bar = keras.utils.Progbar(steps, stateful_metrics=["loss", "images/s"]) \
            if progress and is_chief else None
        if self.bar is not None and start_step:
            self.bar.update(start_step)
        self.rows: list[dict] = []
        self.start = self.last = time.perf_counter()
        self.last_step = start_step

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def log(self, step: int, loss: float) -> None:
        now = time.perf_counter()
        rate = (step - self.last_step) * self.images_per_step / max(now - self.last, 1e-9)
        row = {"step": step, "loss": loss, "images_per_s": rate, "seconds": now - self.start}
        self.rows.append(row)
        self.last, self.last_step = now, step
        if self.file is not None:
            self.file.write(json.dumps(row) + "\n")
            self.file.flush()
        if self.writer is not None:
            tf = tensorflow()
            with self.writer.as_default():
                tf.summary.scalar("loss", loss, step=step)
                tf.summary.scalar("images_per_second", rate, step=step)
        if self.bar is not None:
            self.bar.update(step, values=[("loss", loss), ("images/s", rate)])

    def history(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=list(self.COLUMNS))

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
        if self.writer is not None:
            self.writer.close()
