from siamese_lessons import QUICK, describe_environment, show_environment


def test_environment_report_names_versions_and_profile(capsys):
    info = describe_environment(QUICK)
    for key in ("python", "tensorflow", "keras", "scikit-learn", "numpy", "devices", "profile"):
        assert key in info
    assert info["profile"].startswith("profile=quick")
    assert show_environment(QUICK) is QUICK
    assert "profile=quick" in capsys.readouterr().out


def test_in_a_notebook_warnings_print_without_the_kernels_cell_path(monkeypatch, capsys):
    import sys
    import types
    import warnings

    def python_format(message, category, filename, lineno, line=None):
        return f"{filename}:{lineno}: {category.__name__}: {message}\n"

    monkeypatch.setattr(warnings, "formatwarning", python_format)  # restored afterwards
    cell = "/tmp/ipykernel_11345/3321465063.py"
    # ipykernel imported (as by a test runner that executes notebooks) but no kernel shell: left alone
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: None
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    show_environment(QUICK)
    assert warnings.formatwarning("the small sets", UserWarning, cell, 3).startswith(cell)
    # inside a Jupyter kernel's shell: plain warnings
    ipython.get_ipython = lambda: type("ZMQInteractiveShell", (), {})()
    show_environment(QUICK)
    assert warnings.formatwarning("the small sets", UserWarning, cell, 3) == "UserWarning: the small sets\n"
    capsys.readouterr()


def test_first_tensorflow_import_is_quiet():
    """TensorFlow's C++ start-up lines must not reach a notebook's stderr."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    out = subprocess.run([sys.executable, "-c", "import siamese_lessons as sl; sl.show_environment()"],
                         capture_output=True, text=True, env=env, check=True)
    assert "tensorflow" in out.stdout
    assert out.stderr == ""


def test_command_line_quotes_arguments():
    from siamese_lessons.results import command_line

    assert command_line("benchmarks/x.py", ["--steps", "more pairs", "--epochs", "3"]) == \
        "python benchmarks/x.py --steps 'more pairs' --epochs 3"
    assert command_line("benchmarks/x.py", []) == "python benchmarks/x.py"
