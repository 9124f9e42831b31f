"""What commands show a person: foreign libraries' warnings stay out of it, in worker
processes too."""

import os
import subprocess
import sys
import warnings

from uvhunt.console import warnings_off

CHILD = [sys.executable, "-c", "import warnings; warnings.warn('a library speaks')"]


def child_stderr() -> str:
    return subprocess.run(CHILD, capture_output=True, text=True, check=True).stderr


def test_warnings_off_here_and_in_the_processes_started_meanwhile(monkeypatch, recwarn):
    monkeypatch.delenv("PYTHONWARNINGS", raising=False)
    with warnings_off():
        warnings.warn("a library speaks", stacklevel=1)
        assert child_stderr() == ""
    assert len(recwarn) == 0
    assert "PYTHONWARNINGS" not in os.environ  # the environment is left as it was
    assert "a library speaks" in child_stderr()


def test_the_users_pythonwarnings_rules_child_processes(monkeypatch):
    monkeypatch.setenv("PYTHONWARNINGS", "default")
    with warnings_off():
        assert "a library speaks" in child_stderr()
    assert os.environ["PYTHONWARNINGS"] == "default"
