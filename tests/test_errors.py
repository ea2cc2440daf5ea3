"""errors: every exception names what is wrong, and derives from the closest built-in."""

import pytest

from siamese_lessons import errors


def test_every_public_error_is_listed_and_derives_from_a_builtin():
    assert set(errors.__all__) == {name for name in vars(errors) if name.endswith(("Error", "Warning"))}
    bases = {"DatasetNotFoundError": FileNotFoundError, "CorruptImageError": ValueError,
             "CorruptArchiveError": ValueError, "ChecksumError": ValueError, "MalformedLineError": ValueError,
             "IdentityLeakageError": ValueError, "ProfileError": ValueError, "CheckpointError": RuntimeError,
             "PeerUnreachableError": ConnectionError, "CheckpointFallbackWarning": UserWarning}
    assert set(bases) == set(errors.__all__)
    for name, base in bases.items():
        assert issubclass(getattr(errors, name), base), name


def test_dataset_not_found_names_the_path_and_the_variable(monkeypatch):
    monkeypatch.setenv("SCIKIT_LEARN_DATA", "/data/sk")
    error = errors.DatasetNotFoundError("LFW", "/data/sk/lfw_home", "SCIKIT_LEARN_DATA", "Download it.")
    assert str(error) == ("LFW data not found: /data/sk/lfw_home does not exist. Set SCIKIT_LEARN_DATA to "
                          "the folder that holds it (currently SCIKIT_LEARN_DATA='/data/sk'). Download it.")
    with pytest.raises(FileNotFoundError):
        raise error


def test_file_errors_name_the_file_and_the_fix():
    assert str(errors.CorruptImageError("a.jpg", "truncated")) == "cannot decode image a.jpg: truncated"
    assert str(errors.MalformedLineError("pairs.txt", 3, "x y", "'<a> <b>'")) == (
        "pairs.txt, line 3: malformed line 'x y'; expected '<a> <b>'")
    checksum = errors.ChecksumError("f.zip", "ab", "cd")
    assert (checksum.expected, checksum.actual) == ("ab", "cd") and "expected ab, got cd" in str(checksum)
    assert "delete it and load again" in str(errors.CorruptArchiveError("f.zip", "bad CRC"))


def test_leakage_lists_at_most_ten_sorted_identities():
    error = errors.IdentityLeakageError([f"p{i:02d}" for i in range(12, 0, -1)], "fold 3")
    assert error.shared[0] == "p01" and len(error.shared) == 12
    assert str(error).startswith("12 identities appear in both training and evaluation data (fold 3): "
                                 "p01, p02, p03, p04, p05, p06, p07, p08, p09, p10 ...")


def test_run_errors_say_what_to_do():
    error = errors.CheckpointError("runs/a", ["ckpt-2: truncated", "ckpt-1: missing"])
    assert "(ckpt-2: truncated; ckpt-1: missing)" in str(error) and "--restart" in str(error)
    peers = errors.PeerUnreachableError(["10.0.0.2:2222"], 30)
    assert peers.timeout == 30.0 and "10.0.0.2:2222 did not answer within 30 s" in str(peers)
