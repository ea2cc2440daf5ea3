import io
import shutil
import zipfile

import numpy as np
import pytest
from PIL import Image

from siamese_lessons.data import (
    fetch_omniglot_archive,
    load_omniglot,
    load_omniglot_one_shot_runs,
    sample_one_shot_trials,
)
from siamese_lessons.errors import ChecksumError, CorruptArchiveError, DatasetNotFoundError

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def small(omniglot_home):
    return load_omniglot("background_small")


def test_small_background_sets(small):
    # small1: 136 characters, small2: 156; Greek (24) and Latin (26) are in both.
    assert small.n_classes == 136 + 156 - 24 - 26 == 242
    assert len(small) == 242 * 20
    assert small.images.shape[1:] == (105, 105) and small.images.dtype == np.uint8
    assert set(np.unique(small.images)) <= {0, 255}
    assert sorted(np.unique(small.groups["alphabet"])) == [
        "Balinese", "Early_Aramaic", "Greek", "Japanese_(katakana)", "Korean", "Latin",
        "Sanskrit", "Tagalog"]
    assert set(small.counts().values()) == {20}
    for c in range(3):
        assert sorted(small.groups["drawer"][small.labels == c]) == list(range(1, 21))


def test_auto_falls_back_to_the_small_sets_with_a_warning(omniglot_home):
    with pytest.warns(UserWarning, match="small background sets") as caught:
        data = load_omniglot("auto")
    assert data.n_classes == 242
    # It names the file and the variable, not the cache's absolute path (readers see it).
    message = str(caught[0].message)
    assert "images_background.zip is not in $KERAS_HOME/datasets" in message
    assert str(omniglot_home) not in message


def test_official_runs_agree_with_the_answer_key(omniglot_home):
    runs = load_omniglot_one_shot_runs()
    assert len(runs) == 400 and runs.n_way == 20
    assert np.bincount(runs.runs)[1:].tolist() == [20] * 20
    # Independent check of trial 0 of run 07 against the files in the zip.
    with zipfile.ZipFile(omniglot_home / "datasets/all_runs.zip") as zf:
        key = zf.read("run07/class_labels.txt").decode().split()
        test_file, train_file = key[0], key[1]

        def png(name):
            return np.asarray(Image.open(io.BytesIO(zf.read(name))).convert("L"))

        t = int(np.flatnonzero(runs.runs == 7)[0])
        np.testing.assert_array_equal(runs.images[runs.queries[t]], png(test_file))
        answer = runs.candidates[t, runs.answers[t]]
        np.testing.assert_array_equal(runs.images[answer], png(train_file))


def test_sampler_is_seeded_and_within_alphabet(small):
    a = sample_one_shot_trials(small, 30, seed=3)
    b = sample_one_shot_trials(small, 30, seed=3)
    c = sample_one_shot_trials(small, 30, seed=4)
    np.testing.assert_array_equal(a.candidates, b.candidates)
    assert not np.array_equal(a.candidates, c.candidates)
    alphabet, drawer = small.groups["alphabet"], small.groups["drawer"]
    for t in range(len(a)):
        cand = a.candidates[t]
        assert len(set(alphabet[cand])) == 1  # one alphabet per trial
        assert len(set(small.labels[cand])) == 20  # 20 different characters
        assert small.labels[a.queries[t]] == small.labels[cand[a.answers[t]]]
        assert drawer[a.queries[t]] != drawer[cand[0]]  # query drawn by someone else
    assert len(set(a.answers.tolist())) > 5  # answer position is shuffled


def test_checksum_mismatch_and_truncation(omniglot_home, tmp_path, monkeypatch):
    home = tmp_path / "keras"
    (home / "datasets").mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(home))
    with pytest.raises(DatasetNotFoundError, match="KERAS_HOME"):
        fetch_omniglot_archive("all_runs.zip")
    data = (omniglot_home / "datasets/all_runs.zip").read_bytes()
    (home / "datasets/all_runs.zip").write_bytes(data[: len(data) // 2])
    with pytest.raises(ChecksumError, match="sha256 mismatch.*all_runs.zip"):
        load_omniglot_one_shot_runs()
    # A truncated archive that is read anyway is named as corrupt.
    from siamese_lessons.data.omniglot import _read_background_zip

    shutil.copy(home / "datasets/all_runs.zip", tmp_path / "cut.zip")
    with pytest.raises(CorruptArchiveError, match="cut.zip"):
        _read_background_zip(tmp_path / "cut.zip")


def test_unknown_subset():
    with pytest.raises(ValueError, match="background_small"):
        load_omniglot("train")
