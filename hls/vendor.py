"""Vendor HLS tools: found in one place; synthesis runs only where they are installed."""

import shutil

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
        f"with the AMD/Xilinx {backend} HLS tools (`uvhunt firmware --synth`)."
    )
