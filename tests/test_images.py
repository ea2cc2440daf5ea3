import numpy as np
import pytest

from siamese_lessons.data import read_image
from siamese_lessons.data._common import decode_table, output_shape, sha256_of, verify_sha256
from siamese_lessons.errors import ChecksumError, CorruptImageError

from .conftest import write_image


def test_grey_is_the_rounded_channel_mean(tmp_path):
    rgb = np.array([[[10, 20, 31], [1, 2, 2]]], dtype=np.uint8)  # means 20.33 and 1.67
    path = write_image(tmp_path / "x.png", rgb)
    assert read_image(path).tolist() == [[20, 2]]
    assert read_image(path, color=True).tolist() == rgb.tolist()


def test_crop_then_resize_shapes(tmp_path):
    img = np.zeros((250, 250, 3), np.uint8)
    img[70:195, 78:172] = 255  # the classic crop window is white, the rest black
    path = write_image(tmp_path / "f.png", img)
    out = read_image(path, crop=(slice(70, 195), slice(78, 172)))
    assert out.shape == (125, 94) and out.min() == 255
    assert read_image(path, crop=(slice(70, 195), slice(78, 172)), resize=0.5).shape == (62, 47)
    assert output_shape((250, 250), None, 0.25) == (62, 62)
    with pytest.raises(ValueError, match="does not fit"):
        output_shape((250, 250), (slice(0, 300), slice(0, 10)), None)


def test_corrupt_and_wrong_size_images_name_the_file(tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    with pytest.raises(CorruptImageError, match="broken.jpg"):
        read_image(bad)
    small = write_image(tmp_path / "small.png", np.zeros((10, 12), np.uint8))
    with pytest.raises(CorruptImageError, match="expected 250x250 pixels, got 10x12"):
        read_image(small, expected_frame=(250, 250))
    with pytest.raises(FileNotFoundError):
        read_image(tmp_path / "missing.png")


def test_decode_table_keeps_order_and_reports_the_bad_file(tmp_path):
    paths = [write_image(tmp_path / f"{k}.png", np.full((4, 4), k * 10, np.uint8)) for k in range(5)]
    table = decode_table(paths, frame=(4, 4))
    assert table.dtype == np.uint8 and table[:, 0, 0].tolist() == [0, 10, 20, 30, 40]
    (tmp_path / "3.png").write_bytes(b"garbage")
    with pytest.raises(CorruptImageError, match="3.png"):
        decode_table(paths, frame=(4, 4))


def test_decode_table_cache_reads_back_the_table_and_decodes_a_changed_file_again(tmp_path, monkeypatch):
    import os

    from siamese_lessons.data import _common

    paths = [write_image(tmp_path / f"{k}.png", np.full((6, 6), k * 10, np.uint8)) for k in range(3)]
    cache = tmp_path / "cache"
    first = decode_table(paths, frame=(6, 6), resize=0.5, cache_dir=cache)
    assert first[:, 0, 0].tolist() == [0, 10, 20] and first.shape == (3, 3, 3)
    assert len(list(cache.glob("*.npy"))) == 1 and not list(cache.glob("*.tmp.npy"))

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded although the table is cached")

    monkeypatch.setattr(_common, "read_image", no_decoding)
    np.testing.assert_array_equal(decode_table(paths, frame=(6, 6), resize=0.5, cache_dir=cache), first)
    with pytest.raises(AssertionError, match="decoded"):  # other options: another table
        decode_table(paths, frame=(6, 6), cache_dir=cache)
    monkeypatch.undo()

    # A changed file (new content, size and time) is decoded again, not read from the cache.
    write_image(paths[1], np.full((6, 6), 99, np.uint8), fmt="BMP")
    os.utime(paths[1], ns=(1, 1))
    assert decode_table(paths, frame=(6, 6), resize=0.5, cache_dir=cache)[1, 0, 0] == 99
    # A damaged cache file is decoded again and replaced.
    for npy in cache.glob("*.npy"):
        npy.write_bytes(b"not an npy file")
    assert decode_table(paths, frame=(6, 6), resize=0.5, cache_dir=cache)[:, 0, 0].tolist() == [0, 99, 20]
    # Tables above the size limit are not cached.
    monkeypatch.setattr(_common, "DECODE_CACHE_MAX_BYTES", 10)
    decode_table(paths, frame=(6, 6), cache_dir=tmp_path / "big")
    assert not (tmp_path / "big").exists()


def test_sha256(tmp_path):
    f = tmp_path / "a.txt"
    f.write_bytes(b"abc")
    digest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # FIPS 180-2 example
    assert sha256_of(f) == digest
    verify_sha256(f, digest)
    with pytest.raises(ChecksumError, match="a.txt"):
        verify_sha256(f, "0" * 64)
