import numpy as np
import pytest

from siamese_lessons.data import load_olivetti, read_clean_list, read_image_folder
from siamese_lessons.errors import DatasetNotFoundError, MalformedLineError

from .conftest import write_image


@pytest.mark.data
def test_olivetti_matches_scikit_learn(olivetti_home):
    from sklearn.datasets import fetch_olivetti_faces

    faces = load_olivetti()
    assert faces.images.shape == (400, 64, 64) and faces.n_classes == 40
    assert set(faces.counts().values()) == {10}
    ref = fetch_olivetti_faces(download_if_missing=False)
    assert np.abs(faces.images / 255.0 - ref.images).max() <= 0.5 / 255 + 1e-6
    # Published output of a real download: data[0][:3] = [0.30991736, 0.3677686, 0.41735536]
    assert faces.images[0, 0, :3].tolist() == [79, 94, 106]


def test_olivetti_missing_names_the_variable(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="SCIKIT_LEARN_DATA"):
        load_olivetti(data_home=tmp_path)


@pytest.mark.data
def test_att_faces_folder(att_faces):
    listing = read_image_folder(att_faces)
    assert len(listing) == 400 and len(listing.class_names) == 40
    assert listing.paths[0] == "s1/1.pgm" and listing.labels[0] == 0
    assert np.bincount(listing.labels).tolist() == [10] * 40


def test_image_folder(tmp_path):
    for person, n in {"b": 2, "a": 1}.items():
        for k in range(n):
            write_image(tmp_path / person / f"{k}.PNG", np.zeros((2, 2), np.uint8))
    (tmp_path / "a" / "notes.txt").write_text("not an image")
    listing = read_image_folder(tmp_path)
    assert listing.paths.tolist() == ["a/0.PNG", "b/0.PNG", "b/1.PNG"]
    assert listing.labels.tolist() == [0, 1, 1] and listing.class_names.tolist() == ["a", "b"]
    with pytest.raises(ValueError, match="has 1 images.*at least 2"):
        read_image_folder(tmp_path, min_images=2)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="empty has 0 images"):
        read_image_folder(tmp_path)
    with pytest.raises(DatasetNotFoundError):
        read_image_folder(tmp_path / "missing")


def test_clean_list(tmp_path):
    f = tmp_path / "clean.txt"
    f.write_text("m.0a/1.jpg 0\nm.0a/2.jpg 0\nm.0b/7.jpg 12\n")
    listing = read_clean_list(f)
    assert listing.paths.tolist() == ["m.0a/1.jpg", "m.0a/2.jpg", "m.0b/7.jpg"]
    assert listing.labels.tolist() == [0, 0, 12] and listing.root == str(tmp_path)


@pytest.mark.parametrize("content, line", [
    ("a.jpg 0\nb.jpg\n", 2),
    ("a.jpg 0\nb.jpg 1 extra\n", 2),
    ("a.jpg x\n", 1),
    ("a.jpg 0\nb.jpg -1\n", 2),
    ("a.jpg 0\n\nb.jpg 1\n", 2),
    ("a.jpg 0\nb.jpg 100000000000000000000000\n", 2),  # 10^23 used to raise OverflowError later
    ("a.jpg 0\nb.jpg \u0663\n", 2),  # an Arabic-Indic digit is not an ASCII label
])
def test_clean_list_errors_name_the_line(tmp_path, content, line):
    f = tmp_path / "clean.txt"
    f.write_text(content)
    with pytest.raises(MalformedLineError, match=f"line {line}") as info:
        read_clean_list(f)
    assert info.value.line_number == line
    with pytest.raises(DatasetNotFoundError):
        read_clean_list(tmp_path / "none.txt")


def test_clean_list_strips_a_bom_and_rejects_repeated_paths_and_bad_text(tmp_path):
    f = tmp_path / "clean.txt"
    f.write_bytes(b"\xef\xbb\xbfm.0a/1.jpg 0\nm.0a/2.jpg 0\n")
    assert read_clean_list(f).paths.tolist() == ["m.0a/1.jpg", "m.0a/2.jpg"]  # no BOM in the first path
    f.write_text("a.jpg 0\nb.jpg 0\na.jpg 0\n")
    with pytest.raises(MalformedLineError, match=r"line 3.*'a.jpg' is listed again with the same label, "
                                                 r"first on line 1"):
        read_clean_list(f)
    f.write_text("a.jpg 0\nb.jpg 0\na.jpg 7\n")
    with pytest.raises(MalformedLineError, match=r"line 3.*another label \(0 on line 1\)"):
        read_clean_list(f)
    f.write_bytes(b"a.jpg 0\nb\xff.jpg 1\n")
    with pytest.raises(MalformedLineError, match="line 2.*UTF-8") as info:
        read_clean_list(f)
    assert info.value.line_number == 2 and str(f) in str(info.value)


def test_a_corrupt_olivetti_cache_names_the_file(tmp_path):
    from siamese_lessons.errors import CorruptArchiveError

    (tmp_path / "olivetti_py3.pkz").write_bytes(b"\x78\x9c not a pickle at all" * 10)
    with pytest.raises(CorruptArchiveError, match="olivetti_py3.pkz"):
        load_olivetti(data_home=str(tmp_path), download_if_missing=False)


def test_hidden_folders_and_files_are_not_identities_or_images(tmp_path):
    for person in ("Ann", "Bob"):
        write_image(tmp_path / person / "1.png", np.zeros((4, 4)))
    write_image(tmp_path / ".ipynb_checkpoints" / "1.png", np.zeros((4, 4)))
    write_image(tmp_path / "Ann" / ".hidden.png", np.zeros((4, 4)))
    listing = read_image_folder(tmp_path)
    assert listing.class_names.tolist() == ["Ann", "Bob"]
    assert listing.paths.tolist() == ["Ann/1.png", "Bob/1.png"]
