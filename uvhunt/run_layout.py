"""Where each stage's folder sits in a run folder: the layout `uvhunt run` writes, and the
defaults of every command's input and output folders (the built-in default run)."""

from pathlib import Path

DEFAULT_RUN = Path("runs/default")
FOLDERS = {
    "simulate": "sessions",
    "windows": "windows",
    "train": "model",
    "evaluate": "evaluation",
    "export": "export",
    "firmware": "firmware",
    "rtl": "firmware/rtl",
    "cosim": "cosim",
    "resources": "resources",
    "detect": "detect",
    "report": "report",
}
"""Each stage's folder in the run folder (the RTL lives inside the firmware project)."""


def default_folder(stage: str) -> Path:
    """The folder ``stage`` writes in the default run, e.g. ``runs/default/model``."""
    return DEFAULT_RUN / FOLDERS[stage]
