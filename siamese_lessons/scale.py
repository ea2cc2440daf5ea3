"""One recipe for training on a clean list at any scale: what ``python -m siamese_lessons train`` runs.

:func:`train` takes a clean list (``<identity>/<image>.jpg <label>`` lines, the
MS-Celeb-1M format) or a folder of identity folders and

1. creates the ``tf.distribute`` strategy (first: multi-worker needs that);
2. sets the precision policy;
3. prepares streamed data once, in the output folder: the seed's two pair
   files for the pair losses (``binary``: sigmoid pair model, ``contrastive``),
   identity TFRecord shards for ``triplet`` (online mining on P x K batches);
4. trains with :func:`~siamese_lessons.distributed.train_steps`, resuming from
   ``<out>/checkpoints`` when it exists;
5. saves the model (``model.keras``) and the embedding model
   (``embedder.keras``), optionally a TFLite copy checked against Keras.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import ClassVar

import numpy as np

from ._tf import keras as _keras
from ._tf import tensorflow
from .config import TrainConfig, check_pk_batch, check_positive
from .data.containers import ImageList
from .distributed import (
    PEER_TIMEOUT_S,
    PRECISIONS,
    STRATEGIES,
    TrainResult,
    make_strategy,
    set_precision,
    train_steps,
    worker_info,
)

__all__ = [
    "LOSSES",
    "MINING",
    "TOWER_NAMES",
    "ScaleConfig",
    "ScaleRun",
    "learning_check",
    "listing_digest",
    "prepare_data",
    "read_source",
    "train",
    "untrained_model",
]

#: Training objectives :func:`train` supports.
LOSSES = ("binary", "contrastive", "triplet")
#: Online miners of the triplet loss: :data:`siamese_lessons.losses.MINERS`, listed here so that
#: ``--help`` needs no Keras.
MINING = ("semi_hard", "batch_all", "batch_hard")
#: The towers of :data:`siamese_lessons.models.TOWERS` (listed here so ``--help`` needs no Keras).
TOWER_NAMES = ("improved", "koch", "lfw_seed", "vgg")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ScaleConfig(TrainConfig):
    """Everything :func:`train` needs besides the data and the output folder: a
    :class:`~siamese_lessons.config.TrainConfig` that counts optimizer steps (``steps`` in
    all, 1,000 by default; ``batch_size`` per replica, 64: pairs for the pair losses, images
    = P x K for triplet; Adam's ``learning_rate``, 1e-3, cosine-decayed to zero over
    ``steps``) and the following. A streamed run is one epoch: ``epochs`` must be 1.

    Attributes
    ----------
    loss : {"binary", "contrastive", "triplet"}
    tower : str
        A key of :data:`siamese_lessons.models.TOWERS`; ``tower_kwargs`` are
        its hyperparameters (e.g. ``{"filters": [32, 64, 128]}`` for ``improved``).
    embedding_dim : int
        Size of the L2-normalised embedding (contrastive and triplet).
    image_size : (int, int)
    channels : {1, 3}
    k : int
        Images per identity in a P x K batch (triplet).
    margin : float
        Contrastive / triplet margin.
    mining : {"semi_hard", "batch_all", "batch_hard"}
        Online miner of the triplet loss (FaceNet's semi-hard by default; batch-hard
        learns fastest on clean data but can collapse early, see chapter 5).
    augment : bool
        Horizontal flips and mild affine distortion of training images.
    pairs_per_kind : int
        Positive (and negative) pairs written for the pair losses.
    num_shards : int
        TFRecord shards written for triplet training.
    strategy : str
        See :func:`~siamese_lessons.distributed.make_strategy`.
    peer_timeout : float
        Seconds a multi-worker run waits for its ``TF_CONFIG`` peers before it stops
        with an error naming them.
    precision : str
        See :func:`~siamese_lessons.distributed.set_precision`.
    xla : bool
    checkpoint_every, log_every : int
    seed : int
    """

    counts: ClassVar[str] = "steps"

    batch_size: int = 64
    learning_rate: float = 1e-3
    steps: int = 1000
    loss: str = "triplet"
    tower: str = "improved"
    tower_kwargs: dict = dataclasses.field(default_factory=dict)
    embedding_dim: int = 128
    image_size: tuple[int, int] = (112, 112)
    channels: int = 3
    k: int = 4
    margin: float = 0.2
    mining: str = "semi_hard"
    augment: bool = True
    pairs_per_kind: int = 100_000
    num_shards: int = 16
    strategy: str = "auto"
    peer_timeout: float = PEER_TIMEOUT_S
    precision: str = "float32"
    xla: bool = False
    checkpoint_every: int = 100
    log_every: int = 10
    seed: int = 0

    def __post_init__(self) -> None:
        from .models import TOWERS

        super().__post_init__()
        if self.epochs != 1:
            raise ValueError(f"a streamed run is one epoch of `steps` steps; epochs must be 1, "
                             f"got {self.epochs!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; choose one of {list(LOSSES)}")
        if self.tower not in TOWERS:
            raise ValueError(f"unknown tower {self.tower!r}; choose one of {sorted(TOWERS)}")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {self.strategy!r}; choose one of {list(STRATEGIES)}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"unknown precision {self.precision!r}; choose one of {list(PRECISIONS)}")
        if not (isinstance(self.peer_timeout, (int, float)) and 0 < self.peer_timeout < float("inf")):
            raise ValueError(f"peer_timeout must be positive seconds, got {self.peer_timeout!r}")
        if self.mining not in MINING:
            raise ValueError(f"unknown mining {self.mining!r}; choose one of {list(MINING)}")
        check_positive(self, "embedding_dim", "checkpoint_every", "log_every", "pairs_per_kind", "num_shards")
        if self.loss == "triplet":
            check_pk_batch(self.batch_size, self.k)
        if not self.margin > 0:
            raise ValueError(f"margin must be positive, got {self.margin!r}")

    @property
    def images_per_replica_step(self) -> int:
        """Images one replica sees per step (a pair counts two)."""
        return self.batch_size * (1 if self.loss == "triplet" else 2)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (*self.image_size, self.channels)


@dataclasses.dataclass(frozen=True)
class ScaleRun:
    """What :func:`train` produced.

    Attributes
    ----------
    result : TrainResult
    data_dir : str
        Pair files or shards used.
    model_path, embedder_path : str or None
        Saved by the chief only (``None`` on other workers). The embedding
        model is always float32 (a copy of the weights when training was mixed
        precision), ready for inference and TFLite.
    tflite_path : str or None
    tflite_max_error : float or None
        Largest absolute embedding difference TFLite vs Keras on a check batch.
    global_batch : int
        Per-replica batch x replicas.
    """

    result: TrainResult
    data_dir: str
    model_path: str | None
    embedder_path: str | None
    tflite_path: str | None
    tflite_max_error: float | None
    global_batch: int


def read_source(source: str | os.PathLike) -> ImageList:
    """A clean-list file or an identity-folder dataset, as an :class:`ImageList`."""
    from .data import read_clean_list, read_image_folder

    source = Path(source)
    return read_image_folder(source) if source.is_dir() else read_clean_list(source)


def listing_digest(images: ImageList) -> str:
    """SHA-256 of an image listing (every relative path and label, in order): what derived
    files record they were made from."""
    import hashlib

    digest = hashlib.sha256()
    for path, label in zip(images.paths, np.asarray(images.labels).tolist(), strict=True):
        digest.update(f"{path}\t{label}\n".encode())
    return digest.hexdigest()


def prepare_data(images: ImageList, out_dir: str | os.PathLike, config: ScaleConfig, *,
                 progress: bool = False) -> Path:
    """The input :func:`train` streams from, written once into its output folder.

    Triplet runs get ``out_dir/shards`` (:func:`~siamese_lessons.streaming.write_tfrecord_shards`
    at ``config``'s image size, channels and shard count), pair losses ``out_dir/pairs``
    (:func:`~siamese_lessons.pairgen.write_pair_files`, after every image is checked). A
    ``made_from.json`` beside them records the listing's digest and those arguments; a later
    call (or :func:`train` on the same folder) reuses the folder only when both match, and
    rebuilds it with a warning otherwise. Files are written under a ``.partial`` name and
    renamed when complete, so a failed run never leaves files a rerun would trust.

    Parameters
    ----------
    images : ImageList
        The run's images (for example :func:`~siamese_lessons.data.read_clean_list`).
    out_dir : path-like
        The run's output folder (``train``'s ``out_dir``).
    config : ScaleConfig
    progress : bool
        Show a progress bar while writing.

    Returns
    -------
    pathlib.Path
        The shards or pairs folder: pass shards to
        :func:`~siamese_lessons.streaming.read_shard_set`.

    Raises
    ------
    CorruptImageError, FileNotFoundError
        For pair losses, an image that cannot be decoded or does not exist, named.
    """
    out = Path(out_dir)
    import shutil
    import warnings

    from .pairgen import write_pair_files
    from .streaming import write_tfrecord_shards

    made_from = {"listing_sha256": listing_digest(images), "images": len(images)}
    if config.loss == "triplet":
        target = out / "shards"
        made_from.update(kind="shards", image_size=list(config.image_size), channels=config.channels,
                         num_shards=config.num_shards)
    else:
        target = out / "pairs"
        made_from.update(kind="pairs", pairs_per_kind=config.pairs_per_kind, seed=config.seed)
    record = target / "made_from.json"
    if record.is_file():
        old = json.loads(record.read_text(encoding="utf-8"))
        if old == made_from:
            return target
        changed = sorted(k for k in set(old) | set(made_from) if old.get(k) != made_from.get(k))
        warnings.warn(f"{target} was made from a different listing or arguments ({', '.join(changed)} "
                      "differ); rebuilding it", RuntimeWarning, stacklevel=3)
    elif target.exists():
        warnings.warn(f"{target} has no made_from.json (an unfinished or older run); rebuilding it",
                      RuntimeWarning, stacklevel=3)
    partial = out / f"{target.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    if config.loss == "triplet":
        write_tfrecord_shards(images, partial, image_size=config.image_size, channels=config.channels,
                              num_shards=config.num_shards, progress=progress)
    else:
        from .data import check_images

        check_images(images, progress=progress)  # the pair pipeline would meet a bad file mid-run
        write_pair_files(images, partial, positives=config.pairs_per_kind, negatives=config.pairs_per_kind,
                         seed=config.seed, progress=progress)
    (partial / "made_from.json").write_text(json.dumps(made_from, indent=1), encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(partial, target)
    return target


def learning_check(images: ImageList, config: ScaleConfig, *, p: int = 4, steps: int = 25, seed: int = 0):
    """Train ``config``'s triplet model (its tower at full size, image size, channels,
    optimiser, learning rate, miner and margin) on one ``p`` x ``config.k`` slice of
    ``images`` for ``steps`` steps; see :func:`~siamese_lessons.training.fit_identity_slice`.

    The slice is decoded by the training pipeline's own decoder
    (:func:`~siamese_lessons.streaming.decode_image`); only the batch is smaller than a
    real run's, so the check fits a CPU.
    """
    if config.loss != "triplet":
        raise ValueError(f"learning_check trains triplet configurations, got loss={config.loss!r}")
    from .pairs import group_by_label
    from .streaming import decode_image
    from .training import compile_model, fit_identity_slice

    tf = tensorflow()
    order, _, starts, counts = group_by_label(images.labels)
    eligible = np.flatnonzero(counts >= config.k)
    if len(eligible) < p:
        raise ValueError(f"only {len(eligible)} identities have {config.k} images; the slice needs {p}")
    rng = np.random.default_rng(seed)
    index = np.concatenate([order[starts[c]:starts[c] + counts[c]][:config.k]
                            for c in rng.choice(eligible, p, replace=False)])
    paths = images.absolute_paths()
    size, channels = config.image_size, config.channels
    slice_images = np.stack([decode_image(tf.io.read_file(paths[i]), size, channels).numpy() for i in index])
    model, loss, optimizer = _builder(config)()
    compile_model(model, optimizer=optimizer, loss=loss)
    return fit_identity_slice(model, slice_images, np.asarray(images.labels)[index], steps=steps)


def untrained_model(config: ScaleConfig):
    """The model :func:`train` starts from, untrained: the embedder for contrastive and
    triplet runs, the pair model for binary ones (same seed, same initial weights)."""
    return _builder(config)()[0]


def _builder(config: ScaleConfig):
    keras = _keras()
    from .augmentation import FACE_AUGMENTATION
    from .losses import ContrastiveLoss, mined_triplet_loss
    from .models import (
        build_tower,
        embedding_model,
        siamese_distance_model,
        siamese_pair_model,
        with_augmentation,
    )

    def build():
        keras.utils.set_random_seed(config.seed)
        kwargs = dict(config.tower_kwargs)
        if config.tower == "improved" and tensorflow().distribute.get_strategy().num_replicas_in_sync > 1:
            kwargs.setdefault("synchronized_bn", True)  # same BN statistics on every replica
        tower = build_tower(config.tower, config.input_shape, seed=config.seed, **kwargs)
        if config.augment:  # flips and small affine distortions, inside the model (on the device)
            tower = with_augmentation(tower, FACE_AUGMENTATION, seed=config.seed)
        schedule = keras.optimizers.schedules.CosineDecay(config.learning_rate, config.steps)
        optimizer = keras.optimizers.Adam(schedule)
        if config.loss == "binary":
            return siamese_pair_model(tower, seed=config.seed), keras.losses.BinaryCrossentropy(), optimizer
        embedder = embedding_model(tower, dim=config.embedding_dim, seed=config.seed)
        if config.loss == "contrastive":
            return siamese_distance_model(embedder), ContrastiveLoss(config.margin), optimizer
        return embedder, mined_triplet_loss(config.mining, config.margin), optimizer

    return build


def _dataset_fn(config: ScaleConfig, data_dir: Path, root: str, global_batch: int):
    from .streaming import pair_file_dataset, pk_shard_dataset

    def make(context, start_step: int = 0):
        # A run resumed at step C draws its input with a seed of its own (seed, pipeline, C): it does not
        # replay the batches of steps 1..C, and the same resume point gives the same stream.
        per_replica = context.get_per_replica_batch_size(global_batch)
        seed = config.seed + 1000 * context.input_pipeline_id
        if start_step:
            entropy = [config.seed, context.input_pipeline_id, start_step]
            seed = int(np.random.SeedSequence(entropy).generate_state(1)[0] % 2**31)
        if config.loss == "triplet":
            return pk_shard_dataset(data_dir, p=per_replica // config.k, k=config.k,
                                    seed=seed, num_shards=context.num_input_pipelines,
                                    shard_index=context.input_pipeline_id)
        return pair_file_dataset(data_dir, root, image_size=config.image_size, channels=config.channels,
                                 batch_size=per_replica, seed=seed,
                                 num_shards=context.num_input_pipelines,
                                 shard_index=context.input_pipeline_id)

    return make


def _embedder_of(model, loss: str):
    if loss == "triplet":
        return model
    if loss == "contrastive":
        return next(layer for layer in model.layers if layer.name == "embedder")
    keras = _keras()
    tower = model.get_layer("tower")
    return keras.Model(tower.input, tower.output, name="tower")


def train(
    source: str | os.PathLike | ImageList,
    out_dir: str | os.PathLike,
    config: ScaleConfig,
    *,
    tensorboard: bool = True,
    export_tflite: bool = False,
    max_seconds: float | None = None,
    progress: bool = True,
    restart: bool = False,
) -> ScaleRun:
    """Train a Siamese model on a clean list or identity folder, streamed and resumable.

    Parameters
    ----------
    source : path-like or ImageList
        Clean list file, identity folder, or an :class:`ImageList`.
    out_dir : path-like
        Output folder: ``pairs/`` or ``shards/``, ``checkpoints/``, ``logs/``
        (TensorBoard), ``history.jsonl``, ``model.keras``, ``embedder.keras``,
        ``embedder.tflite``, ``run.json``. Run the same call again to resume.
        Workers other than the chief write under ``out_dir/worker-<i>``.
    config : ScaleConfig
    tensorboard : bool
        Write TensorBoard scalars to ``out_dir/logs``.
    export_tflite : bool
        Also write ``embedder.tflite`` and check it against Keras.
    max_seconds : float or None
        Stop early (after a checkpoint) once this much time has passed.
    progress : bool
    restart : bool
        Start from step 0, deleting the run's checkpoints and history, instead of
        resuming (see :func:`~siamese_lessons.distributed.train_steps`).

    Returns
    -------
    ScaleRun
    """
    # First: multi-worker must precede other TF ops.
    strategy = make_strategy(config.strategy, peer_timeout=config.peer_timeout)
    set_precision(config.precision)
    info = worker_info(strategy)
    out = Path(out_dir)
    own = out if info.is_chief else out / f"worker-{info.task_id}"
    own.mkdir(parents=True, exist_ok=True)
    images = source if isinstance(source, ImageList) else read_source(source)
    data_dir = prepare_data(images, own, config, progress=progress and info.is_chief)
    global_batch = config.batch_size * strategy.num_replicas_in_sync
    result = train_steps(
        _builder(config), _dataset_fn(config, data_dir, images.root, global_batch),
        strategy=strategy, steps=config.steps,
        images_per_step=config.images_per_replica_step * strategy.num_replicas_in_sync,
        checkpoint_dir=out / "checkpoints", checkpoint_every=config.checkpoint_every,
        log_dir=out / "logs" if tensorboard else None, history_path=out / "history.jsonl",
        log_every=config.log_every, xla=config.xla, max_seconds=max_seconds, progress=progress,
        restart=restart)
    model = result.model
    model_path = embedder_path = tflite_path = None
    tflite_error = None
    weights_path = own / "model.weights.h5"
    model.save_weights(str(weights_path))
    if info.is_chief:
        model_path, embedder_path = str(out / "model.keras"), str(out / "embedder.keras")
        model.save(model_path)
        if config.precision != "float32":  # float32 copy for inference and TFLite (no bfloat16 kernels there)
            set_precision("float32")
            try:
                copy = _builder(config)()[0]
            finally:
                set_precision(config.precision)
            copy.set_weights(model.get_weights())
            model = copy
        embedder = _embedder_of(model, config.loss)
        embedder.save(embedder_path)
        if export_tflite:
            from .export import check_tflite_parity
            from .export import export_tflite as _export

            tflite_path = str(_export(embedder, out / "embedder.tflite"))
            rng = np.random.default_rng(config.seed)
            batch = rng.integers(0, 256, (8, *config.input_shape), dtype=np.uint8)  # stored pixels
            tflite_error = check_tflite_parity(embedder, tflite_path, batch)
        summary = {"config": {**dataclasses.asdict(config)}, "replicas": result.replicas,
                   "global_batch": global_batch, "start_step": result.start_step,
                   "final_step": result.final_step, "seconds": result.seconds,
                   "final_loss": None if result.history.empty else float(result.history["loss"].iloc[-1]),
                   "tflite_max_error": tflite_error}
        (out / "run.json").write_text(json.dumps(summary, indent=1))
    return ScaleRun(result=result, data_dir=str(data_dir), model_path=model_path, embedder_path=embedder_path,
                    tflite_path=tflite_path, tflite_max_error=tflite_error, global_batch=global_batch)
