"""Chapter 7: training at MS-Celeb scale, rehearsed on the LFW clean list.

The chapter builds an MS-Celeb-style clean list from the LFW people who are not in
pairsDevTest (each with two or more images), writes the seed's pair files from it,
streams TFRecord shards, and trains :func:`~siamese_lessons.scale.train`'s triplet
recipe in two halves (stopped and resumed), then scores pairsDevTest against the
untrained twin and LBP. This module holds the chapter's sizes and the choice of
people; the machinery is the library's (:mod:`~siamese_lessons.scale`,
:mod:`~siamese_lessons.streaming`, :mod:`~siamese_lessons.distributed`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from ..data.containers import ImageList, PairSet
from ..profiles import Profile, get_profile
from ..scale import ScaleConfig
from ..scale import learning_check as _scale_learning_check

__all__ = ["SIZES", "Chapter7Sizes", "clean_list_images", "learning_check", "sizes"]


@dataclasses.dataclass(frozen=True)
class Chapter7Sizes:
    """Chapter 7's run in one profile.

    Attributes
    ----------
    config : ScaleConfig
        The training run (:func:`~siamese_lessons.scale.train`).
    identities : int or None
        LFW people in the clean list (``None``: every eligible one).
    positives : int
        Positive (and as many negative) pairs the pair-file section writes.
    """

    config: ScaleConfig
    identities: int | None
    positives: int

    def __post_init__(self) -> None:
        if not isinstance(self.config, ScaleConfig):
            raise TypeError(f"config must be a ScaleConfig, got {type(self.config).__name__}")
        if self.identities is not None and int(self.identities) < 2:
            raise ValueError(f"identities must be at least 2 (or None for all), got {self.identities!r}")
        if int(self.positives) < 1:
            raise ValueError(f"positives must be a positive integer, got {self.positives!r}")


#: ``quick`` (CPU, CI): 48x48 grey, a small tower, 200 steps on 1,000 LFW people. In two
#: fresh-clone CI runs on a 2-core EPYC: DevTest AUC 0.707, +5.1 bootstrap standard errors over
#: LBP and +6.5 over the untrained twin; the two training cells took 48 and 72 s (at 300 steps,
#: in a test run there: 82 s, +6.2 and +7.6). At 300 steps 48x48 ran 1,038 images/s on two
#: cores against 621 at 64x64, for a DevTest AUC of 0.728 against 0.719.
#: ``full`` (one GPU): 112x112 RGB, the full improved tower, P x K = 64 x 4, mixed
#: bfloat16, 20,000 steps on every eligible LFW person.
SIZES: Mapping[str, Chapter7Sizes] = MappingProxyType({
    "quick": Chapter7Sizes(
        config=ScaleConfig(loss="triplet", tower_kwargs={"filters": (32, 64, 128, 128), "convs_per_block": 1,
                                                         "dropout": 0.0},
                           image_size=(48, 48), channels=1, batch_size=64, k=4, steps=200, learning_rate=1e-3,
                           checkpoint_every=50, log_every=25, num_shards=4),
        identities=1000, positives=2_000),
    "full": Chapter7Sizes(
        config=ScaleConfig(loss="triplet", image_size=(112, 112), channels=3, batch_size=256, k=4,
                           steps=20_000, learning_rate=1e-3, precision="mixed_bfloat16",
                           checkpoint_every=1000, log_every=100, num_shards=16),
        identities=None, positives=20_000),
})


def sizes(profile: Profile | str | None = None) -> Chapter7Sizes:
    """Chapter 7's run for ``profile`` (a Profile, its name, or ``None`` for the active one)."""
    return SIZES[get_profile(profile).name]


def clean_list_images(lfw: ImageList, devtest: PairSet, identities: int | None) -> ImageList:
    """The images of the chapter's clean list: LFW people with two or more images and none in
    ``devtest``, the first ``identities`` of them in label order (``None``: all).

    Parameters
    ----------
    lfw : ImageList
        Every LFW image (``read_image_folder(lfw_home() / "lfw_funneled")``).
    devtest : PairSet
        pairsDevTest, whose people are left out so that it stays a test of unseen people.
    identities : int or None

    Raises
    ------
    ValueError
        If ``lfw`` has no class names to match against ``devtest``'s people, or fewer than two
        people are left.
    """
    if lfw.class_names is None:
        raise ValueError("lfw must carry class names (read_image_folder gives them) to leave out "
                         "pairsDevTest's people")
    unseen = ~np.isin(lfw.class_names[lfw.labels], np.unique(devtest.identities))
    ids, counts = np.unique(lfw.labels[unseen], return_counts=True)
    chosen = ids[counts >= 2][:identities]
    if len(chosen) < 2:
        raise ValueError(f"only {len(chosen)} LFW people outside pairsDevTest have two or more images")
    keep = np.isin(lfw.labels, chosen)
    return ImageList(root=lfw.root, paths=lfw.paths[keep], labels=lfw.labels[keep])


def learning_check(images: ImageList, run: Chapter7Sizes, *, p: int = 4, steps: int = 25, seed: int = 0):
    """Train ``run.config``'s triplet model on one P x K slice of ``images``
    (:func:`siamese_lessons.scale.learning_check`)."""
    return _scale_learning_check(images, run.config, p=p, steps=steps, seed=seed)
