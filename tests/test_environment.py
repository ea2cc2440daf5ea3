from siamese_lessons import QUICK, describe_environment, show_environment


def test_environment_report_names_versions_and_profile(capsys):
    info = describe_environment(QUICK)
    for key in ("python", "tensorflow", "keras", "scikit-learn", "numpy", "devices", "profile"):
        assert key in info
    assert info["profile"].startswith("profile=quick")
    assert show_environment(QUICK) is QUICK
    assert "profile=quick" in capsys.readouterr().out
