"""The run folder: where `uvhunt run` writes, and what every command reads by default.

Each stage declares its own folder inside a run folder (``Stage.folder``); this module holds
what is common to all of them."""

from pathlib import Path

DEFAULT_RUN = Path("runs/default")
"""The built-in default run folder: every command's default inputs and outputs lie in it."""
STAMPS = ".stages"
"""Folder of a run holding one ``<stage>.json`` stamp (cache key and summary) per stage."""


def stage_folder(run: Path, folder: str) -> Path:
    """The folder a stage writes in ``run``, e.g. ``runs/default/model``."""
    return Path(run) / folder
