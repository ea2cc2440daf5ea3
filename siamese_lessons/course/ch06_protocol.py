"""Chapter 6: every model of the course under LFW's View 2 protocol.

For each fold of ``pairs.txt`` a learned method trains one model without that
fold's people (:func:`~siamese_lessons.evaluation.view2_protocol`); this module owns
the methods of the comparison, how long each trains per profile, and which folds
the chapter's live run scores.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from ..config import check_positive
from ..data.containers import PairSet
from ..evaluation import view2_protocol
from ..profiles import Profile, check_resize, get_profile
from ..training import image_input_shape, train_pair_model
from . import ch08_margin_softmax as ch08
from .ch02_lfw_pairs import LFW_STEPS
from .ch04_contrastive import ContrastiveRun, train_contrastive
from .ch04_contrastive import learning_check as contrastive_learning_check
from .ch05_triplet import TripletRun, train_triplet
from .ch08_margin_softmax import MarginRun
from .faces import QUICK_FACE_RESIZE, face_embedder

__all__ = ["SIZES", "VIEW2_MODELS", "Chapter6Sizes", "View2Budget", "learning_check", "run_view2", "sizes",
           "view2_method"]


@dataclasses.dataclass(frozen=True)
class View2Budget:
    """How much each learned model of chapter 6 trains, for each fold.

    Attributes
    ----------
    pairs : int
        Training pairs sampled for the pair and contrastive models.
    epochs : int
        Epochs over those pairs.
    batch_size : int
        Pairs per batch.
    pk : (int, int)
        Identities x images per triplet batch.
    steps_per_epoch, triplet_epochs : int
        Triplet training length.
    margin : MarginRun
        How chapter 8's margin-softmax model trains (``cosface``).

    The fields stay flat (the View 2 record keeps them); :attr:`contrastive` and
    :attr:`triplet` are the chapter 4 and 5 runs (each a :class:`~siamese_lessons.config.TrainConfig`)
    that the models train with.
    """

    pairs: int
    epochs: int
    batch_size: int
    pk: tuple[int, int]
    steps_per_epoch: int
    triplet_epochs: int
    margin: MarginRun = ch08.SIZES["quick"]

    def __post_init__(self) -> None:
        check_positive(self, "pairs", "epochs", "batch_size", "steps_per_epoch", "triplet_epochs")
        if len(self.pk) != 2 or min(self.pk) < 1:
            raise ValueError(f"pk must be two positive numbers (identities, images each), got {self.pk!r}")
        _ = self.triplet  # chapter 5's run checks its P x K batch: an error here, not in the first fold

    @property
    def contrastive(self) -> ContrastiveRun:
        """Chapter 4's run with this budget's ``pairs``, ``epochs`` and ``batch_size`` (the
        pair model trains on as many pairs, as long, in batches as large)."""
        return ContrastiveRun(pairs=self.pairs, epochs=self.epochs, batch_size=self.batch_size)

    @property
    def triplet(self) -> TripletRun:
        """Chapter 5's run with this budget: P x K batches of ``pk``,
        ``steps_per_epoch`` x ``triplet_epochs`` steps."""
        p, k = self.pk
        return TripletRun(batch_size=p * k, k=k, steps=self.steps_per_epoch * self.triplet_epochs,
                          epochs=self.triplet_epochs)


@dataclasses.dataclass(frozen=True)
class Chapter6Sizes:
    """Chapter 6's run for one profile.

    Attributes
    ----------
    budget : View2Budget
        Training length of every learned model, per fold.
    live : tuple of str
        Methods of :data:`VIEW2_MODELS` the chapter runs live.
    folds : tuple of int or None
        Folds the live run trains a model for and scores (``None``: all ten);
        thresholds still come from all the other folds.
    resize : float or None
        Resize of the 125x94 face crop the chapter loads View 2 and the LFW people at
        (``None``: 125x94).
    """

    budget: View2Budget
    live: tuple[str, ...]
    folds: tuple[int, ...] | None = None
    resize: float | None = None

    def __post_init__(self) -> None:
        check_resize("resize", self.resize)
        unknown = sorted(set(self.live) - set(VIEW2_MODELS))
        if unknown:
            raise ValueError(f"unknown View 2 methods {unknown}; choose from {list(VIEW2_MODELS)}")


#: Every method of chapter 6's comparison, classical baselines and the untrained twin first.
VIEW2_MODELS = ("eigenfaces", "lbp", "untrained", "pair", "contrastive", "triplet", "cosface")

_VIEW2_WHAT = {
    "eigenfaces": "PCA (100 whitened components) fitted on the training people; minus Euclidean distance",
    "lbp": "uniform LBP histograms on a 7x7 grid; minus chi-square distance",
    "untrained": "chapter 4's embedder with its initial weights (the learned embeddings' untrained twin)",
    "pair": "chapter 2's improved tower, L1 distance + sigmoid, binary cross-entropy on sampled pairs",
    "contrastive": "chapter 4's embedding, contrastive loss (margin 1) on sampled pairs",
    "triplet": "chapter 5's embedding, FaceNet semi-hard triplet loss (margin 0.2) on P x K batches",
    "cosface": "chapter 8's embedding, trained as a CosFace classifier of the training people",
}

#: Chapter 6's sizes by profile name. On a CPU the live run trains chapter 4's
#: contrastive embedding with chapter 4's quick budget for two folds, on 31x23 faces
#: (:data:`~.faces.QUICK_FACE_RESIZE`: about 20 s a fold on two cores, where 62x47 took about 70 s);
#: on a GPU every method trains for all ten folds at 125x94.
SIZES: Mapping[str, Chapter6Sizes] = MappingProxyType({
    "quick": Chapter6Sizes(
        budget=View2Budget(pairs=6_000, epochs=2, batch_size=64, pk=(16, 4), steps_per_epoch=60,
                           triplet_epochs=1),
        live=("lbp", "untrained", "contrastive"), folds=(0, 1), resize=QUICK_FACE_RESIZE),
    "full": Chapter6Sizes(
        budget=View2Budget(pairs=20_000, epochs=2, batch_size=128, pk=(32, 4), steps_per_epoch=300,
                           triplet_epochs=6, margin=ch08.SIZES["full"]),
        live=("lbp", "untrained", "contrastive", "triplet")),
})


def sizes(profile: Profile | str | None = None) -> Chapter6Sizes:
    """Chapter 6's run for ``profile`` (a Profile, its name, or ``None`` for the active one)."""
    return SIZES[get_profile(profile).name]


def view2_method(name: str, budget: View2Budget, *, seed: int = 0, verbose: int | str = 0):
    """The ``fit`` and ``score`` functions of one chapter 6 method, for
    :func:`~siamese_lessons.evaluation.view2_protocol`.

    Parameters
    ----------
    name : str
        One of :data:`VIEW2_MODELS`.
    budget : View2Budget
        Training length of the learned models (baselines ignore it).
    seed : int
    verbose : int or "auto"
        Keras progress output of each training.

    Returns
    -------
    fit : callable(IdentitySet) -> model
        For a trained network it has a ``final_losses`` list: the training loss
        after the last epoch of each model it trained, in order.
    score : callable(model, PairSet, index) -> numpy.ndarray
    """
    from ..baselines import EigenfaceVerifier, lbp_pair_scores
    from ..evaluation import embedding_pair_scores, pair_scores
    from ..pairs import sample_pairs
    from ..training import split_validation

    def embedding_score(model, pairs, index):
        return embedding_pair_scores(model, pairs, index)

    if name == "eigenfaces":
        return (lambda train: EigenfaceVerifier(n_components=100).fit(train),
                lambda model, pairs, index: model.score_pairs(pairs, index))
    if name == "lbp":
        return (lambda train: None, lambda model, pairs, index: lbp_pair_scores(pairs, index))
    final_losses: list[float] = []  # each fold's last training loss, in fold order

    def trained(model, history):
        final_losses.append(float(history["loss"].iloc[-1]))
        return model

    if name == "untrained":
        def fit_untrained(train):
            import keras

            keras.utils.set_random_seed(seed)  # the weights train_contrastive starts from
            return face_embedder(image_input_shape(train.images), seed=seed)

        return fit_untrained, embedding_score
    if name == "pair":
        step = LFW_STEPS[-1]

        run = budget.contrastive

        def fit_pair(train):
            n_val = max(64, run.pairs // 20)
            pairs = sample_pairs(train, run.pairs + n_val, seed=seed)
            tr, va = split_validation(pairs, n_val, seed=seed)
            exp = train_pair_model(pairs, tr, va, tower=step.tower,
                                   input_shape=image_input_shape(pairs.images),
                                   tower_kwargs=step.tower_kwargs, learning_rate=step.learning_rate,
                                   batch_size=run.batch_size, epochs=run.epochs,
                                   augmentation=step.augmentation, seed=seed, verbose=verbose)
            return trained(exp.model, exp.fit.history)

        fit_pair.final_losses = final_losses
        return fit_pair, lambda model, pairs, index: pair_scores(model, pairs, index)
    if name == "contrastive":
        run = budget.contrastive

        def fit_contrastive(train):
            embedder, fit = train_contrastive(
                train, n_pairs=run.pairs, epochs=run.epochs, batch_size=run.batch_size, margin=run.margin,
                learning_rate=run.learning_rate, embedding_dim=run.embedding_dim,
                augmentation=run.augmentation, seed=seed, verbose=verbose)
            return trained(embedder, fit.history)

        fit_contrastive.final_losses = final_losses
        return fit_contrastive, embedding_score
    if name == "triplet":
        run = budget.triplet

        def fit_triplet(train):
            return trained(*train_triplet(
                train, mining="semi_hard", pk=run.pk, steps_per_epoch=run.steps_per_epoch,
                epochs=run.epochs, margin=run.margin, learning_rate=run.learning_rate,
                embedding_dim=run.embedding_dim, seed=seed, verbose=verbose))

        fit_triplet.final_losses = final_losses
        return fit_triplet, embedding_score
    if name == "cosface":
        def fit_cosface(train):
            return trained(*ch08.train(train, budget.margin, "cosface", seed=seed, verbose=verbose))

        fit_cosface.final_losses = final_losses
        return fit_cosface, embedding_score
    raise ValueError(f"unknown View 2 method {name!r}; choose one of {list(VIEW2_MODELS)}")


def run_view2(view2: PairSet, people: Any, models: Sequence[str], budget: View2Budget, *,
              folds: Sequence[int] | None = None, far_target: float = 1e-3, seed: int = 0,
              verbose: int | str = 0, progress: bool = True) -> dict[str, dict]:
    """Chapter 6's comparison: :func:`~siamese_lessons.evaluation.view2_protocol` for each
    named method, on ``folds`` (``None``: all).

    Returns
    -------
    dict of str to dict
        Per method: what it is, the protocol's numbers (``accuracy_mean``,
        ``accuracy_std``, ``fold_accuracies``, ``auc``, ``eer``, ``tar_at_far``,
        ``far_at_far``, the fold-averaged ROC as ``fpr``/``tpr``, ``correct`` per
        scored pair for paired margins), ``seconds``, and for trained networks
        ``final_losses``: each scored fold's training loss after its last epoch.
    """
    results = {}
    for name in models:
        fit, score = view2_method(name, budget, seed=seed, verbose=verbose)
        start = time.perf_counter()
        out = view2_protocol(view2, people, fit, score, far_target=far_target, folds=folds, progress=progress)
        out.pop("scores")
        results[name] = {"what": _VIEW2_WHAT[name], **out, "seconds": time.perf_counter() - start}
        if hasattr(fit, "final_losses"):
            results[name]["final_losses"] = list(fit.final_losses)
    return results


def learning_check(people, run: Chapter6Sizes, *, pairs: int = 64, steps: int = 40, batch_size: int = 16,
                   seed: int = 0):
    """Train the live run's contrastive model (``run.budget``'s learning setup: chapter 4's
    embedder, margin and learning rate) on ``pairs`` pairs of ``people`` for ``steps`` steps;
    see :func:`~siamese_lessons.training.fit_slice`."""
    return contrastive_learning_check(people, run.budget.contrastive, pairs=pairs, steps=steps,
                                      batch_size=batch_size, seed=seed)
