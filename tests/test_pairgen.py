import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from siamese_lessons.data import read_clean_list
from siamese_lessons.data.containers import ImageList
from siamese_lessons.pairgen import (
    PAIR_FILE_NAMES,
    negative_pairs,
    pair_quotas,
    positive_pairs,
    write_pair_files,
)


def test_quotas_water_fill_by_hand():
    # capacities 1, 3, 10, 0 and 8 items: level 3 gives 1 + 3 + 3 = 7, one more goes to the only
    # group with room left (capacity 10).
    np.testing.assert_array_equal(pair_quotas([1, 3, 10, 0], 8), [1, 3, 4, 0])
    q = pair_quotas([5, 5, 5], 7, seed=3)
    assert sorted(q.tolist()) == [2, 2, 3]
    np.testing.assert_array_equal(pair_quotas([2, 2], 0), [0, 0])
    with pytest.raises(ValueError, match="at most 4"):
        pair_quotas([2, 2], 5)


def _labels(seed=0, n_ids=60):
    rng = np.random.default_rng(seed)
    return rng.permutation(np.repeat(np.arange(n_ids), rng.integers(1, 15, n_ids)))


@pytest.mark.parametrize("block", [None, 1, 7])
def test_positive_pairs_are_distinct_same_identity_and_spread(block):
    labels = _labels()
    pairs = np.concatenate(list(positive_pairs(labels, 500, seed=0, block=block)))
    assert pairs.shape == (500, 2)
    assert (labels[pairs[:, 0]] == labels[pairs[:, 1]]).all() and (pairs[:, 0] != pairs[:, 1]).all()
    assert len({frozenset(p) for p in pairs.tolist()}) == 500
    # Every identity gets its water-filling quota: min(C(n, 2), level), not "first come first served".
    sizes = np.bincount(labels)
    expected = pair_quotas(sizes * (sizes - 1) // 2, 500, seed=0)
    np.testing.assert_array_equal(np.bincount(labels[pairs[:, 0]], minlength=len(sizes)), expected)


def test_positive_pairs_can_take_every_pair_of_an_identity():
    labels = np.repeat([0, 1], [4, 3])  # 6 + 3 = 9 pairs in all
    pairs = np.concatenate(list(positive_pairs(labels, 9)))
    assert {frozenset(p) for p in pairs.tolist()} == {frozenset(p) for g in (range(4), range(4, 7))
                                                     for p in itertools.combinations(g, 2)}


@pytest.mark.parametrize("block", [None, 5])
def test_negative_pairs_are_distinct_different_identity_and_spread(block):
    labels = _labels(1)
    pairs = np.concatenate(list(negative_pairs(labels, 900, seed=2, block=block)))
    assert pairs.shape == (900, 2)
    assert (labels[pairs[:, 0]] != labels[pairs[:, 1]]).all()
    assert len({frozenset(p) for p in pairs.tolist()}) == 900
    starts = np.bincount(labels[pairs[:, 0]], minlength=60)
    assert starts.max() - starts.min() <= 1  # each identity starts an equal share


def test_same_seed_same_pairs_different_seed_different():
    labels = _labels()
    a, b, c = (np.concatenate(list(negative_pairs(labels, 200, seed=s))) for s in (0, 0, 1))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_impossible_requests_are_errors():
    with pytest.raises(ValueError, match="no identity has two or more images"):
        list(positive_pairs([0, 1, 2], 1))
    with pytest.raises(ValueError, match="at least 2 identities"):
        list(negative_pairs([0, 0, 0], 1))


@pytest.mark.parametrize("m", [2, 7, 8])
def test_every_identity_pair_can_be_drawn_as_a_negative(m):
    # With m = 8 the rule "partner within the next (m - 1) // 2" never drew (0,4), (1,5), (2,6), (3,7);
    # two identities were refused outright.
    labels = np.repeat(np.arange(m), 6)
    pairs = np.concatenate(list(negative_pairs(labels, 12 * m * (m - 1) // 2, seed=0)))  # a third of all
    drawn = {tuple(sorted(p)) for p in labels[pairs].tolist()}
    assert drawn == {(a, b) for a in range(m) for b in range(a + 1, m)}
    assert len({frozenset(p) for p in pairs.tolist()}) == len(pairs)  # and still no repeats


def test_write_pair_files_round_trip_through_a_clean_list(tmp_path):
    labels = _labels(2, n_ids=20)
    order = np.argsort(labels, kind="stable")
    lines = [f"id{labels[i]:03d}/{i}.jpg {labels[i]}" for i in order]
    (tmp_path / "clean.txt").write_text("\n".join(lines) + "\n")
    images = read_clean_list(tmp_path / "clean.txt")
    files = write_pair_files(images, tmp_path / "out", positives=100, negatives=120, seed=0, block=3)
    assert (files.positives, files.negatives) == (100, 120)
    identity = dict(zip(images.paths.tolist(), images.labels.tolist(), strict=True))
    pos = [ln.split() for ln in open(files.positive_path).read().splitlines()]
    neg = [ln.split() for ln in open(files.negative_path).read().splitlines()]
    assert len(pos) == 100 and len(neg) == 120
    assert all(identity[a] == identity[b] for a, b in pos) and all(identity[a] != identity[b] for a, b in neg)
    assert files.identities_used == len({identity[a] for a, _ in pos})


def test_make_pairs_command_line(tmp_path):
    (tmp_path / "clean.txt").write_text("".join(f"p{i % 5}/{i}.jpg {i % 5}\n" for i in range(40)))
    run = subprocess.run([sys.executable, "-m", "siamese_lessons", "make-pairs", str(tmp_path / "clean.txt"),
                          "--positives", "30", "--negatives", "30", "--out-dir", str(tmp_path / "o")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "30 positive" in run.stdout
    assert len(open(tmp_path / "o/positive_pairs_path.txt").read().splitlines()) == 30
    bad = subprocess.run([sys.executable, "-m", "siamese_lessons", "make-pairs", str(tmp_path / "none.txt"),
                          "--positives", "3", "--negatives", "3", "--out-dir", str(tmp_path / "o")],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "none.txt" in bad.stderr


def test_image_list_is_what_write_pair_files_takes(tmp_path):
    images = ImageList(root=".", paths=np.array(["a/1.jpg", "a/2.jpg", "b/1.jpg", "c/1.jpg"]),
                       labels=np.array([0, 0, 1, 2]))
    files = write_pair_files(images, tmp_path, positives=1, negatives=2)
    assert open(files.positive_path).read().split() in (["a/1.jpg", "a/2.jpg"], ["a/2.jpg", "a/1.jpg"])


def test_a_failed_request_leaves_existing_pair_files_untouched(tmp_path):
    from siamese_lessons.data import ImageList

    images = ImageList(root=str(tmp_path), paths=np.asarray([f"p{i // 2}/{i}.jpg" for i in range(8)]),
                       labels=np.repeat(np.arange(4), 2))
    first = write_pair_files(images, tmp_path / "out", positives=4, negatives=4, seed=0)
    before = {p: Path(p).read_text() for p in (first.positive_path, first.negative_path)}
    with pytest.raises((ValueError, RuntimeError)):  # 4 identities of 2 images: 4 distinct positives at most
        write_pair_files(images, tmp_path / "out", positives=50, negatives=4, seed=1)
    assert {p: Path(p).read_text() for p in before} == before  # the old code truncated them to 0 lines
    assert sorted(f.name for f in (tmp_path / "out").iterdir()) == sorted(PAIR_FILE_NAMES)
