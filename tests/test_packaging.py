"""One namespace: the wheel installs ``uvhunt`` and nothing else at the top of
site-packages; ``import uvhunt.quant`` works there and ``import quant`` does not."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BARE = ("quant", "hls", "sim", "euso", "firmware_tests")
SUBPACKAGES = ("uvhunt.euso", "uvhunt.quant", "uvhunt.hls", "uvhunt.sim", "uvhunt.firmware_tests")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(out)],
        check=True,
        capture_output=True,
    )
    (found,) = out.glob("uvhunt-*.whl")
    return found


def test_the_wheel_holds_only_the_uvhunt_namespace(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"uvhunt"}
    for package in SUBPACKAGES:
        assert package.replace(".", "/") + "/__init__.py" in names
    assert "uvhunt/firmware_tests/mlp_tests.py" in names  # the cocotb testbench ships


@pytest.mark.slow
def test_installed_wheel_imports_uvhunt_quant_and_not_the_bare_names(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
    )
    env = {"PATH": "/usr/bin:/bin"}  # no PYTHONPATH: only what the wheel installed

    def imports(module: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [python, "-c", f"import {module}"], cwd=tmp_path, env=env, capture_output=True
        )

    for package in SUBPACKAGES:
        result = imports(package)
        assert result.returncode == 0, result.stderr.decode()
    for bare in BARE:
        result = imports(bare)
        assert result.returncode != 0 and b"ModuleNotFoundError" in result.stderr, bare
