"""Chapter 8: margin-softmax face embeddings (normalised softmax, CosFace, ArcFace).

The chapter's embedder (:func:`~siamese_lessons.course.faces.face_embedder`) is
trained as a classifier of the training people of
:func:`~siamese_lessons.course.faces.face_data` with a cosine head and a margin
(:func:`~siamese_lessons.training.fit_margin_softmax`), then used without the head.
This module owns the chapter's sizes, the comparison with contrastive and triplet
training on the same data and budget, the transfer to the Olivetti faces and the
identification split.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

import numpy as np

from ..augmentation import FACE_AUGMENTATION
from ..config import TrainConfig, check_positive
from ..data.containers import IdentitySet, PairSet, as_model_input
from ..profiles import Profile, check_resize, get_profile
from ..training import compile_model, fit_identity_slice, fit_margin_softmax
from .ch04_contrastive import train_contrastive
from .ch05_triplet import train_triplet
from .faces import QUICK_FACE_RESIZE, face_embedder

__all__ = ["METHODS", "SIZES", "VARIANTS", "MarginRun", "classes", "fine_tune", "identification",
           "identification_split", "learning_check", "olivetti_split", "on_device", "sizes", "train",
           "train_method", "transfer"]

#: The margin-softmax variants: ``(kind, margin)`` for :class:`~siamese_lessons.losses.MarginSoftmaxLoss`.
VARIANTS: Mapping[str, tuple[str, float]] = MappingProxyType({
    "normface": ("cosface", 0.0),
    "cosface": ("cosface", 0.2),
    "arcface": ("arcface", 0.3),
})
_MAX_PAIRS = 8_000
#: Every method the chapter can train: the three variants, then chapters 4 and 5's losses.
METHODS = (*VARIANTS, "contrastive", "triplet")


@dataclasses.dataclass(frozen=True, kw_only=True)
class MarginRun(TrainConfig):
    """How chapter 8's embedders train: a :class:`~siamese_lessons.config.TrainConfig`
    that counts optimizer steps and the following.

    Its ``steps`` are every method's (the budget they share), in ``epochs`` epochs (4 by
    default: the history's rows); ``batch_size`` is images per step for every method
    (pairs: half as many pairs; triplets: P x 4); ``learning_rate`` is Adam's,
    cosine-decayed to zero over ``steps`` for the margin-softmax methods.

    Attributes
    ----------
    resize : float or None
        Resize of the 125x94 face crop (``None``: 125x94).
    scale : float
        Inverse temperature ``s`` of the margin softmax.
    min_images : int
        People with fewer training images are not classes of the margin-softmax head.
    embedding_dim : int
    live : tuple of str
        Methods of :data:`METHODS` the chapter trains live.
    view2_folds : tuple of int or None
        View 2 folds the chapter trains a CosFace model for (``None``: all ten).
    finetune_steps : int
        Steps of fine-tuning (and of training from scratch) on the Olivetti people.
    """

    counts: ClassVar[str] = "steps"

    batch_size: int = 64
    learning_rate: float = 3e-3
    epochs: int = 4
    resize: float | None
    scale: float = 30.0
    min_images: int = 4
    embedding_dim: int = 64
    live: tuple[str, ...] = METHODS
    view2_folds: tuple[int, ...] | None = None
    finetune_steps: int = 100

    def __post_init__(self) -> None:
        super().__post_init__()
        check_resize("resize", self.resize)
        check_positive(self, "min_images", "embedding_dim", "finetune_steps")
        if self.batch_size % 4:
            raise ValueError(f"batch_size must be a multiple of 4 (P x 4 triplet batches), "
                             f"got {self.batch_size}")
        unknown = sorted(set(self.live) - set(METHODS))
        if unknown:
            raise ValueError(f"unknown methods {unknown}; choose from {list(METHODS)}")


#: Chapter 8's sizes by profile name. On a CPU: 31x23 faces and 300 steps of 64 images per
#: method (39-47 s each on one core of a 2-core EPYC beside another job; validation chose the
#: contrastive model, +4.1 standard errors over LBP on DevTest, +4.2 at 400 steps), two View 2
#: folds; on a GPU: 62x47, 8,000 steps of 128, every LFW person with two or more images a class,
#: all ten View 2 folds.
SIZES: Mapping[str, MarginRun] = MappingProxyType({
    "quick": MarginRun(resize=QUICK_FACE_RESIZE, steps=300, view2_folds=(0, 1)),
    "full": MarginRun(resize=0.5, steps=8_000, batch_size=128, min_images=2, finetune_steps=300),
})


def sizes(profile: Profile | str | None = None) -> MarginRun:
    """Chapter 8's run for ``profile`` (a Profile, its name, or ``None`` for the active one)."""
    return SIZES[get_profile(profile).name]


def classes(people: IdentitySet, min_images: int) -> tuple[np.ndarray, np.ndarray]:
    """The images of the people with at least ``min_images`` images, and their classes
    numbered ``0 .. n - 1`` (in the order of ``people``'s labels)."""
    names, counts = np.unique(people.labels, return_counts=True)
    keep = np.isin(people.labels, names[counts >= min_images])
    if not keep.any():
        raise ValueError(f"no person has {min_images} or more images")
    _, labels = np.unique(people.labels[keep], return_inverse=True)
    return people.images[keep], labels


def train(people: IdentitySet, run: MarginRun, variant: str = "cosface", *, seed: int = 0,
          verbose: int | str = 0):
    """Train the chapter's embedder on ``people`` with one margin-softmax ``variant``.

    Returns
    -------
    embedder : keras.Model
    history : pandas.DataFrame
        Per quarter of the run: ``loss`` and training ``accuracy``.
    """
    import keras

    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {list(VARIANTS)}")
    images, labels = classes(people, run.min_images)
    if len(images) < run.batch_size:
        raise ValueError(f"{len(images)} images of people with {run.min_images}+ images; a batch needs "
                         f"{run.batch_size}")
    keras.utils.set_random_seed(seed)
    embedder = face_embedder((*images.shape[1:3], 1), dim=run.embedding_dim, seed=seed)
    history = _fit_classifier(embedder, images, labels, variant, steps=run.steps, batch_size=run.batch_size,
                              learning_rate=run.learning_rate, scale=run.scale,
                              epochs=run.epochs, seed=seed, verbose=verbose)
    return embedder, history


def _fit_classifier(embedder, images, labels, variant: str, *, steps: int, batch_size: int,
                    learning_rate: float, scale: float, epochs: int, seed: int, verbose: int | str = 0):
    """``steps`` random batches of ``batch_size`` images (without repeats inside a batch),
    Adam cosine-decayed from ``learning_rate``, face distortions; returns the history."""
    import keras

    kind, margin = VARIANTS[variant]
    rng = np.random.default_rng(seed)
    batches = np.stack([rng.choice(len(images), batch_size, replace=False) for _ in range(steps)])
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps)
    return fit_margin_softmax(embedder, images, labels, batches, epochs=epochs, learning_rate=schedule,
                              scale=scale, margin=margin, kind=kind, augmentation=FACE_AUGMENTATION,
                              seed=seed, verbose=verbose)[1]


def train_method(people: IdentitySet, run: MarginRun, method: str, *, seed: int = 0, verbose: int | str = 0):
    """Train one of :data:`METHODS` on ``people`` with ``run``'s budget: ``run.steps``
    steps of ``run.batch_size`` images (contrastive: half as many pairs per step,
    chapter 4's loss; triplet: P x 4 batches, chapter 5's semi-hard miner). Returns the
    embedder."""
    if method in VARIANTS:
        return train(people, run, method, seed=seed, verbose=verbose)[0]
    pairs = run.batch_size // 2
    if method == "contrastive":
        # LFW has only so many distinct same-person pairs: the pairs are drawn once and
        # seen in as many epochs as the budget needs (each epoch at most 8,000 pairs).
        epochs = -(-run.steps * pairs // _MAX_PAIRS)
        return train_contrastive(people, n_pairs=run.steps * pairs // epochs, epochs=epochs, batch_size=pairs,
                                 embedding_dim=run.embedding_dim, seed=seed, verbose=verbose)[0]
    if method == "triplet":
        return train_triplet(people, mining="semi_hard", pk=(run.batch_size // 4, 4),
                             steps_per_epoch=run.steps, epochs=1, embedding_dim=run.embedding_dim, seed=seed,
                             verbose=verbose)[0]
    raise ValueError(f"unknown method {method!r}; choose one of {list(METHODS)}")


def olivetti_split(faces: IdentitySet, input_shape, *, seed: int = 0):
    """The Olivetti faces cropped to the embedder's aspect and split by person.

    The 64x64 images are cropped about their centre to the width/height ratio of
    ``input_shape`` (the model resizes them inside). Of the 40 people, 15 are for
    fine-tuning, 5 for choosing thresholds and 20 for testing, none in two parts.

    Returns
    -------
    tune, validation, test : IdentitySet
    """
    height, width = input_shape[:2]
    side = faces.images.shape[1]
    crop = max(1, min(faces.images.shape[2], round(side * width / height)))
    left = (faces.images.shape[2] - crop) // 2
    cropped = dataclasses.replace(faces, images=np.ascontiguousarray(faces.images[:, :, left:left + crop]))
    people = np.random.default_rng(seed).permutation(np.unique(faces.labels))
    if len(people) < 40:
        raise ValueError(f"the Olivetti split needs 40 people, got {len(people)}")
    parts = (people[:15], people[15:20], people[20:40])
    return tuple(cropped.subset(np.isin(faces.labels, part)) for part in parts)


def identification_split(test: PairSet, *, seed: int = 0):
    """Enrolled and unknown people from the images of a pair set (DevTest).

    Every person with two or more distinct images there is enrolled with one image,
    or, for a random half of them, not enrolled at all; every other image of theirs
    is a probe. Probes of people who are not enrolled must be rejected.

    Returns
    -------
    gallery, probes : IdentitySet
        ``gallery`` holds one image per enrolled person; ``probes`` every other image
        of the people with two or more (its ``class_names`` are theirs).
    """
    used = np.unique(test.pairs.ravel())
    names = test.identities[used]
    uniq, counts = np.unique(names, return_counts=True)
    multi = uniq[counts >= 2]
    if len(multi) < 4:
        raise ValueError(f"identification needs people with two or more images; {len(multi)} found")
    rng = np.random.default_rng(seed)
    enrolled = set(rng.permutation(multi)[: len(multi) // 2].tolist())
    keep = used[np.isin(names, multi)]
    class_names = np.asarray(sorted(multi))
    labels = np.searchsorted(class_names, test.identities[keep])
    people = IdentitySet(images=test.images[keep], labels=labels, class_names=class_names,
                         name=f"{test.name}: people with 2+ images")
    first = {}
    for i, name in enumerate(class_names[labels]):
        if name in enrolled and name not in first:
            first[name] = i
    gallery_index = np.asarray(sorted(first.values()))
    probe_index = np.setdiff1d(np.arange(len(people)), gallery_index)
    return people.subset(gallery_index, name="gallery"), people.subset(probe_index, name="probes")


def fine_tune(embedder, people: IdentitySet, run: MarginRun, *, learning_rate: float, seed: int = 0):
    """Train ``embedder`` (in place) as a CosFace classifier of ``people`` for
    ``run.finetune_steps`` steps of ``run.batch_size // 2`` images; returns its history."""
    _, labels = np.unique(people.labels, return_inverse=True)
    return _fit_classifier(embedder, people.images, labels, "cosface", steps=run.finetune_steps,
                           batch_size=min(run.batch_size // 2, len(people)), learning_rate=learning_rate,
                           scale=run.scale, epochs=1, seed=seed)


def transfer(lfw_embedder, olivetti: IdentitySet, run: MarginRun, *, pairs: int = 1_000, seed: int = 0):
    """The LFW embedder on the Olivetti faces: as it is, fine-tuned on 15 Olivetti people,
    against the same network trained on those 15 people alone, and LBP.

    Thresholds come from pairs of 5 other Olivetti people; the scores are on ``pairs``
    balanced pairs of the remaining 20, whom no model trained on
    (:func:`olivetti_split`). Fine-tuning starts from the LFW weights at a tenth of
    ``run.learning_rate``; from scratch starts from random weights at the full rate;
    both train for ``run.finetune_steps`` steps.

    Returns
    -------
    table, correct
        As :func:`~siamese_lessons.evaluation.compare_verifiers` returns them.
    """
    import keras

    from ..baselines import lbp_pair_scores
    from ..evaluation import compare_verifiers, embedding_pair_scores
    from ..models import with_input_resizing
    from ..pairs import sample_pairs

    shape = tuple(lfw_embedder.input_shape[1:])
    tune, validation, test = olivetti_split(olivetti, shape, seed=seed)
    val_pairs = sample_pairs(validation, min(pairs, 200), seed=seed)
    test_pairs = sample_pairs(test, pairs, seed=seed + 1)
    read = (*tune.images.shape[1:3], 1)

    def wrap(net):
        return with_input_resizing(net, read)

    as_is = wrap(lfw_embedder)
    tuned_net = keras.models.clone_model(lfw_embedder)
    tuned_net.set_weights(lfw_embedder.get_weights())
    tuned = wrap(tuned_net)
    fine_tune(tuned, tune, run, learning_rate=run.learning_rate / 10, seed=seed)
    keras.utils.set_random_seed(seed)
    scratch = wrap(face_embedder(shape, dim=run.embedding_dim, seed=seed))
    fine_tune(scratch, tune, run, learning_rate=run.learning_rate, seed=seed)
    models = {"LFW embedder, as is": as_is, "LFW embedder, fine-tuned": tuned, "Olivetti only": scratch}
    val = {name: embedding_pair_scores(m, val_pairs) for name, m in models.items()}
    tst = {name: embedding_pair_scores(m, test_pairs) for name, m in models.items()}
    val["LBP (chi-square)"], tst["LBP (chi-square)"] = lbp_pair_scores(val_pairs), lbp_pair_scores(test_pairs)
    return compare_verifiers(val, val_pairs.labels, tst, test_pairs.labels)


def identification(embedder, calibration: PairSet, test: PairSet, *, far: float = 0.1, k: int = 5,
                   seed: int = 0):
    """Open-set identification with ``embedder``: galleries and probes from the images of
    ``calibration`` (validation people) and ``test`` (DevTest) by :func:`identification_split`;
    the rejection threshold is set for a false-accept rate ``far`` on the calibration
    split's unknown probes, then applied once to the test split.

    Returns
    -------
    dict
        :func:`~siamese_lessons.evaluation.open_set_identification` on the test split,
        plus ``threshold``, and ``gallery``, ``probes``, ``top_labels``, ``top_scores``
        for showing answers.
    """
    from ..evaluation import embed_images, identify, open_set_identification, threshold_at_far

    def ranked(pairs: PairSet, split_seed: int):
        gallery, probes = identification_split(pairs, seed=split_seed)
        top, scores = identify(embed_images(embedder, gallery.images), gallery.class_names[gallery.labels],
                               embed_images(embedder, probes.images), k=min(k, len(gallery)))
        return gallery, probes, top, scores

    gallery, probes, top, scores = ranked(calibration, seed)
    truth = probes.class_names[probes.labels]
    unknown = ~np.isin(truth, gallery.class_names[gallery.labels])
    threshold = threshold_at_far(scores[unknown, 0], far)
    gallery, probes, top, scores = ranked(test, seed + 1)
    out = open_set_identification(top, scores, probes.class_names[probes.labels],
                                  gallery.class_names[gallery.labels], threshold)
    return {**out, "threshold": threshold, "gallery": gallery, "probes": probes, "top_labels": top,
            "top_scores": scores}


def on_device(embedder, data, folder, *, representative: int = 200, runs: int = 200, seed: int = 0):
    """The embedder as TFLite files, float32, float16 and int8 (post-training, calibrated on
    ``representative`` training images): size on disk, median CPU latency per face, and
    DevTest accuracy with each file's own threshold from the validation pairs, against
    the Keras model.

    Returns
    -------
    table : pandas.DataFrame
        Per format: ``size (kB)``, ``latency (ms)``, ``threshold``, ``validation accuracy``,
        ``test accuracy``, ``test AUC``.
    correct : dict
        Per format, which DevTest pairs it got right.
    """
    from pathlib import Path

    from ..evaluation import compare_verifiers, embedding_pair_scores
    from ..export import TFLiteModel, export_tflite, tflite_latency

    folder = Path(folder)
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(data.train), min(representative, len(data.train)), replace=False)
    calibration = as_model_input(data.train.images[pick])
    models, sizes, latency = {"Keras (float32)": embedder}, {}, {}
    for label, quantization in (("TFLite float32", None), ("TFLite float16", "float16"),
                                ("TFLite int8", "int8")):
        path = export_tflite(embedder, folder / f"embedder_{quantization or 'float32'}.tflite",
                             quantization=quantization,
                             representative=calibration if quantization == "int8" else None)
        models[label] = TFLiteModel(path)
        sizes[label] = path.stat().st_size / 1024
        latency[label] = 1000 * tflite_latency(path, calibration[0], runs=runs)
    val = {name: embedding_pair_scores(m, data.validation_pairs) for name, m in models.items()}
    tst = {name: embedding_pair_scores(m, data.test) for name, m in models.items()}
    table, correct = compare_verifiers(val, data.validation_pairs.labels, tst, data.test.labels)
    table.insert(0, "latency (ms)", [latency.get(name, np.nan) for name in table.index])
    table.insert(0, "size (kB)", [sizes.get(name, np.nan) for name in table.index])
    return table, correct


def learning_check(people: IdentitySet, run: MarginRun, variant: str = "cosface", *, images: int = 64,
                   steps: int = 30, seed: int = 0):
    """Train ``run``'s embedder and ``variant``'s loss, scale and learning rate on ``images``
    images of four-image people for ``steps`` steps; see
    :func:`~siamese_lessons.training.fit_identity_slice`."""
    import keras

    from ..layers import CosineClassifier
    from ..losses import MarginSoftmaxLoss

    kind, margin = VARIANTS[variant]
    slice_images, labels = classes(people, 4)
    pick = np.flatnonzero(labels < images // 4)
    pick = np.concatenate([pick[labels[pick] == c][:4] for c in range(images // 4)])
    _, labels = np.unique(labels[pick], return_inverse=True)
    keras.utils.set_random_seed(seed)
    embedder = face_embedder((*slice_images.shape[1:3], 1), dim=run.embedding_dim, seed=seed)
    head = keras.Sequential([embedder, CosineClassifier(int(labels.max()) + 1, seed=seed)])
    compile_model(head, optimizer=keras.optimizers.Adam(run.learning_rate),
                  loss=MarginSoftmaxLoss(scale=run.scale, margin=margin, kind=kind))
    return fit_identity_slice(embedder, slice_images[pick], labels, steps=steps, train_model=head)
