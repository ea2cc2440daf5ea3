"""Streaming input: pair files, TFRecord shards (round trip), the throughput meter, TFLite export."""

from __future__ import annotations

import json

import numpy as np
import pytest

from siamese_lessons import streaming as st
from siamese_lessons.data import read_image_folder
from siamese_lessons.errors import DatasetNotFoundError

from .conftest import write_image


def _value(label: int, index: int) -> int:
    """Grey level of image ``index`` of identity ``label`` (each image is one flat colour)."""
    return 20 + 40 * label + 7 * index


@pytest.fixture()
def flat_faces(tmp_path):
    """Identity folder of flat PNG images whose grey level says who and which image they are."""
    root = tmp_path / "faces"
    counts = [4, 3, 5, 2, 1, 3]  # identity 4 has one image: no pair, no shard record
    for label, n in enumerate(counts):
        for i in range(n):
            write_image(root / f"id{label}" / f"{i}.png", np.full((10, 8), _value(label, i)))
    return root


def test_decode_image_resizes_to_size_as_uint8(flat_faces):
    tf = pytest.importorskip("tensorflow")
    data = tf.io.read_file(str(flat_faces / "id1" / "2.png"))
    image = st.decode_image(data, (6, 5), channels=3).numpy()
    assert image.shape == (6, 5, 3) and image.dtype == np.uint8  # stored pixels: the models rescale
    np.testing.assert_array_equal(image, np.full((6, 5, 3), _value(1, 2)))  # a flat image stays flat


@pytest.mark.parametrize("color", [False, True])
def test_decode_image_follows_the_in_memory_loaders_conventions(tmp_path, color):
    # A lossless image whose channels differ: TensorFlow's own grey (luma weights) and its
    # bilinear resize were 12 grey levels off read_image's channel mean and bicubic resize.
    tf = pytest.importorskip("tensorflow")
    from PIL import Image

    from siamese_lessons.data import read_image

    y, x = np.mgrid[0:100, 0:80]
    rng = np.random.default_rng(0)
    rgb = np.stack([127 + 100 * np.sin(x / 7 + c) * np.cos(y / 9 - c) for c in range(3)], -1)
    rgb = np.clip(rgb + rng.normal(0, 10, rgb.shape), 0, 255).astype(np.uint8)
    path = tmp_path / "face.png"
    Image.fromarray(rgb).save(path)
    expected = read_image(path, color=color, resize=0.37).astype(np.float32)  # 37 x 29
    got = st.decode_image(tf.io.read_file(str(path)), expected.shape[:2], channels=3 if color else 1)
    got = got.numpy().astype(np.float32)
    got = got if color else got[..., 0]
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() <= 1.0  # both round to whole levels, after slightly different resizes
    if not color:  # and the grey is the channels' mean, by hand, rounded
        mean_grey = st.decode_image(tf.io.read_file(str(path)), (100, 80), channels=1).numpy()[..., 0]
        np.testing.assert_allclose(mean_grey, rgb.astype(np.float64).mean(axis=2), atol=0.5 + 1e-3)


def _write_pairs(path, lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def test_pair_file_dataset_gives_the_listed_pairs_with_their_labels(flat_faces, tmp_path):
    pairs = tmp_path / "pairs"
    _write_pairs(pairs / st.PAIR_FILE_NAMES[0], ["id0/0.png id0/1.png", "id2/3.png id2/4.png"])
    _write_pairs(pairs / st.PAIR_FILE_NAMES[1], ["id0/2.png id1/0.png", "id3/1.png id5/2.png"])
    expected = {((_value(0, 0), _value(0, 1)), 1.0), ((_value(2, 3), _value(2, 4)), 1.0),
                ((_value(0, 2), _value(1, 0)), 0.0), ((_value(3, 1), _value(5, 2)), 0.0)}
    ds = st.pair_file_dataset(pairs, flat_faces, image_size=(10, 8), channels=1, batch_size=2,
                              shuffle_buffer=4)
    seen = set()
    for (left, right), label in ds.take(20):
        assert left.shape == (2, 10, 8, 1) and label.shape == (2,)
        for a, b, y in zip(left.numpy(), right.numpy(), label.numpy(), strict=True):
            seen.add(((round(a.mean()), round(b.mean())), float(y)))  # uint8: the stored pixel values
    assert seen == expected  # every listed pair, each with its file's label, nothing else


def test_pair_file_dataset_balances_positives_and_negatives(flat_faces, tmp_path):
    images = read_image_folder(flat_faces)
    from siamese_lessons.pairgen import write_pair_files

    write_pair_files(images, tmp_path / "pairs", positives=10, negatives=30)
    ds = st.pair_file_dataset(tmp_path / "pairs", flat_faces, image_size=(10, 8), channels=1, batch_size=50)
    labels = np.concatenate([y.numpy() for _, y in ds.take(8)])
    assert 0.42 < labels.mean() < 0.58  # 50/50 in expectation although the files are 10 vs 30 lines


def test_pair_file_dataset_errors_name_the_problem(flat_faces, tmp_path):
    tf = pytest.importorskip("tensorflow")
    with pytest.raises(DatasetNotFoundError, match="pair file"):
        st.pair_file_dataset(tmp_path / "nowhere", flat_faces, image_size=(8, 8), batch_size=2)
    pairs = tmp_path / "bad"
    _write_pairs(pairs / st.PAIR_FILE_NAMES[0], ["id0/0.png id0/1.png extra"])
    _write_pairs(pairs / st.PAIR_FILE_NAMES[1], ["id0/2.png id1/0.png"])
    ds = st.pair_file_dataset(pairs, flat_faces, image_size=(8, 8), batch_size=1, shuffle_buffer=1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="malformed pair line"):
        list(ds.take(4))
    _write_pairs(pairs / st.PAIR_FILE_NAMES[0], ["id0/0.png id0/missing.png"])
    ds = st.pair_file_dataset(pairs, flat_faces, image_size=(8, 8), batch_size=1, shuffle_buffer=1)
    with pytest.raises(tf.errors.NotFoundError, match="missing.png"):
        list(ds.take(4))
    with pytest.raises(ValueError, match="channels"):
        st.pair_file_dataset(pairs, flat_faces, image_size=(8, 8), channels=2, batch_size=2)


def test_tfrecord_shards_round_trip(flat_faces, tmp_path):
    images = read_image_folder(flat_faces)
    shards = st.write_tfrecord_shards(images, tmp_path / "shards", image_size=(10, 8), channels=1,
                                      num_shards=2)
    assert shards.identities == 5 and shards.images == 17  # the one-image identity is left out
    assert json.loads((tmp_path / "shards" / "manifest.json").read_text())["skipped_identities"] == 1
    assert st.read_shard_set(tmp_path / "shards") == shards
    got = {}
    for x, y in st.shard_image_dataset(shards, batch_size=4):
        for image, label in zip(x.numpy(), y.numpy(), strict=True):
            got.setdefault(int(label), []).append(round(float(image.mean())))
    expected = {label: sorted(_value(label, i) for i in range(n))
                for label, n in enumerate([4, 3, 5, 2, 1, 3]) if n >= 2}
    assert {k: sorted(v) for k, v in got.items()} == expected  # every image back, under its label


def test_pk_shard_dataset_batches_are_p_identities_of_k_own_images(flat_faces, tmp_path):
    images = read_image_folder(flat_faces)
    shards = st.write_tfrecord_shards(images, tmp_path / "shards", image_size=(10, 8), channels=1,
                                      num_shards=2)
    own = {label: {_value(label, i) for i in range(n)} for label, n in enumerate([4, 3, 5, 2, 1, 3])}
    for x, y in st.pk_shard_dataset(shards, p=2, k=3, seed=1).take(10):
        assert x.shape == (6, 10, 8, 1)
        labels = y.numpy().reshape(2, 3)
        assert (labels == labels[:, :1]).all() and labels[0, 0] != labels[1, 0]
        for image, label in zip(x.numpy(), y.numpy(), strict=True):
            assert round(float(image.mean())) in own[int(label)]
    with pytest.raises(ValueError, match="p >= 2"):
        st.pk_shard_dataset(shards, p=1, k=3)
    with pytest.raises(ValueError, match="input pipelines"):
        st.pk_shard_dataset(shards, p=2, k=2, num_shards=3)


def test_shard_errors_name_the_file(flat_faces, tmp_path):
    listed = read_image_folder(flat_faces)
    (flat_faces / "id0" / "1.png").unlink()  # listed, then gone
    with pytest.raises(ValueError, match=r"cannot read image .*id0/1\.png"):
        st.write_tfrecord_shards(listed, tmp_path / "s", image_size=(8, 8), num_shards=1)
    (flat_faces / "id2" / "4.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match=r"cannot read image .*id2/4\.png"):
        st.write_tfrecord_shards(read_image_folder(flat_faces), tmp_path / "s", image_size=(8, 8),
                                 num_shards=1)
    with pytest.raises(DatasetNotFoundError, match="manifest"):
        st.read_shard_set(tmp_path / "empty")
    with pytest.raises(ValueError, match="cannot fill"):
        st.write_tfrecord_shards(read_image_folder(flat_faces), tmp_path / "s", image_size=(8, 8),
                                 num_shards=50)


def test_measure_throughput_counts_both_images_of_a_pair():
    pairs = [((np.zeros((4, 2)), np.zeros((4, 2))), np.zeros(4))] * 6
    t = st.measure_throughput(pairs, n_batches=3, warmup=2)
    assert (t.images, t.batches) == (24, 3) and t.images_per_s > 0
    singles = [(np.zeros((5, 2)), np.zeros(5))] * 3
    assert st.measure_throughput(singles, n_batches=2, warmup=1).images == 10
    with pytest.raises(ValueError, match="ended"):
        st.measure_throughput(singles, n_batches=5)


def test_write_clean_list_round_trips_and_refuses_spaces(flat_faces, tmp_path):
    from siamese_lessons.data import read_clean_list, write_clean_list
    from siamese_lessons.data.containers import ImageList

    images = read_image_folder(flat_faces)
    path = write_clean_list(images, tmp_path / "list" / "clean_list.txt")
    assert path.read_text().splitlines()[:2] == ["id0/0.png 0", "id0/1.png 0"]
    back = read_clean_list(path, root=images.root)
    assert back.root == images.root
    np.testing.assert_array_equal(back.paths, images.paths)
    np.testing.assert_array_equal(back.labels, images.labels)
    with pytest.raises(ValueError, match="whitespace"):
        write_clean_list(ImageList(root=".", paths=["a b.jpg"], labels=[0]), tmp_path / "x.txt")


def test_identity_folders_with_spaces_give_pair_files_that_read_back(tmp_path):
    from siamese_lessons.pairgen import write_pair_files

    root = tmp_path / "faces"
    for label, name in enumerate(["Ann Smith", "Bo  Li", "Cy"]):
        for i in range(2):
            write_image(root / name / f"{i} x.png", np.full((10, 8), _value(label, i)))
    images = read_image_folder(root)
    files = write_pair_files(images, tmp_path / "pairs", positives=3, negatives=3, seed=0)
    lines = open(files.positive_path).read().splitlines()
    assert all(line.count("\t") == 1 for line in lines)  # tab-separated: the paths hold spaces
    expected = set()
    for path in (files.positive_path, files.negative_path):
        label = 1.0 if path == files.positive_path else 0.0
        for line in open(path).read().splitlines():
            a, b = line.split("\t")
            value = [_value(int(images.labels[list(images.paths).index(p)]), int(p.split("/")[1][0]))
                     for p in (a, b)]
            expected.add((tuple(value), label))
    ds = st.pair_file_dataset(tmp_path / "pairs", root, image_size=(10, 8), channels=1, batch_size=1,
                              shuffle_buffer=1)
    seen = set()
    for (left, right), y in ds.take(40):
        grey = (round(left.numpy().mean()), round(right.numpy().mean()))
        seen.add((grey, float(y.numpy()[0])))
    assert seen == expected  # every pair read back whole (the old files split "Ann Smith/0 x.png" apart)
