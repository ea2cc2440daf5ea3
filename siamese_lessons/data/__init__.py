"""Dataset loaders. Every loader uses the standard source and cache (scikit-learn's
data home, Keras' ``get_file``), returns a typed container with ``uint8``
images, and raises a clear error when something is missing or malformed.

Label convention: ``1`` (:data:`SAME`) = same identity, ``0`` (:data:`DIFFERENT`)
= different identities.
"""

from ._common import OFFLINE_ENV, read_image
from .containers import (
    DIFFERENT,
    PIXEL_MAX,
    SAME,
    IdentitySet,
    ImageList,
    OneShotTrials,
    PairSet,
    as_model_input,
    load_arrays,
    save_arrays,
)
from .lfw import (
    DECODED_CACHE,
    LFW_CLASSIC_CROP,
    LFW_CLASSIC_RESIZE,
    LFWPairList,
    lfw_home,
    load_lfw_pairs,
    load_lfw_people,
    read_lfw_pairs_file,
)
from .lists import check_images, read_clean_list, read_image_folder, write_clean_list
from .olivetti import load_olivetti
from .omniglot import (
    OMNIGLOT_ARCHIVES,
    fetch_omniglot_archive,
    load_omniglot,
    load_omniglot_one_shot_runs,
    sample_one_shot_trials,
)

__all__ = [
    "DECODED_CACHE",
    "DIFFERENT",
    "LFW_CLASSIC_CROP",
    "LFW_CLASSIC_RESIZE",
    "OFFLINE_ENV",
    "OMNIGLOT_ARCHIVES",
    "PIXEL_MAX",
    "SAME",
    "IdentitySet",
    "ImageList",
    "LFWPairList",
    "check_images",
    "OneShotTrials",
    "PairSet",
    "as_model_input",
    "fetch_omniglot_archive",
    "lfw_home",
    "load_lfw_pairs",
    "load_arrays",
    "load_lfw_people",
    "load_olivetti",
    "load_omniglot",
    "load_omniglot_one_shot_runs",
    "read_clean_list",
    "write_clean_list",
    "read_image",
    "read_image_folder",
    "read_lfw_pairs_file",
    "save_arrays",
    "sample_one_shot_trials",
]
