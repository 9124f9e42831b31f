"""The stage registry: every pipeline stage, in the order ``uvhunt run`` runs them.

Adding a stage is one module declaring ``STAGE`` (see ``uvhunt.stages.stage``) and one line
in ``STAGES``; the command line, ``uvhunt run``, the stage cache and the report follow."""

import argparse
from functools import cache
from pathlib import Path

from uvhunt._core.errors import UvhuntError
from uvhunt._core.progress import ProgressFactory, no_progress
from uvhunt.stages import (
    core,
    cosim,
    detect,
    evaluate,
    export,
    firmware,
    flight,
    report,
    resources,
    rtl,
    simulate,
    sweep,
    train,
    windows,
)
from uvhunt.stages.stage import Stage, with_command_line_fix

STAGES: tuple[Stage, ...] = (
    simulate.STAGE,
    windows.STAGE,
    train.STAGE,
    evaluate.STAGE,
    export.STAGE,
    firmware.STAGE,
    rtl.STAGE,
    cosim.STAGE,
    resources.STAGE,
    core.STAGE,
    detect.STAGE,
    report.STAGE,
    flight.STAGE,
    sweep.STAGE,
)
BY_NAME = {stage.name: stage for stage in STAGES}
FOLDERS = {stage.name: stage.folder for stage in STAGES}
"""Each stage's folder in a run folder."""


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """What every command has: ``--json``, ``--quiet``, ``--verbose``."""
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument(
        "--verbose", action="store_true", help="also show the warnings of the libraries used"
    )


def add_stage_arguments(stage: Stage, parser: argparse.ArgumentParser) -> None:
    stage.add_arguments(parser, FOLDERS)
    add_common_arguments(parser)


@cache
def stage_parser(name: str) -> argparse.ArgumentParser:
    """The parser of ``uvhunt NAME``."""
    stage = BY_NAME[name]
    parser = argparse.ArgumentParser(prog=f"uvhunt {name}", description=stage.description)
    add_stage_arguments(stage, parser)
    return parser


def stage_arguments(stage: Stage, **values) -> argparse.Namespace:
    """``stage``'s arguments as its command with no flags would have them, then ``values``
    (by dest) on top."""
    placeholders = ["-" for source in stage.inputs if source.positional]
    args = stage_parser(stage.name).parse_args(placeholders)
    for dest, value in values.items():
        if not hasattr(args, dest):
            raise KeyError(f"stage {stage.name} has no option {dest!r}")
        setattr(args, dest, value)
    return args


def flag_of(setting: str) -> str | None:
    """The command and flag that set a library setting, e.g. ```uvhunt simulate
    --meteor-rate``` for ``rate_per_hour``."""
    for stage in STAGES:
        dest = stage.settings.get(setting, setting)
        flag = stage.option_dests(stage_parser(stage.name)).get(dest, "")
        if flag.startswith("-"):
            return f"`uvhunt {stage.name} {flag}`"
    return None


def run_stage(stage: Stage, args: argparse.Namespace, progress: ProgressFactory) -> dict:
    """Run one stage; a library error comes back with its command-line fix."""
    if stage.whole_run and getattr(args, "folders", None) is None:
        args.folders = {s.name: Path(args.run) / s.folder for s in STAGES}
    try:
        return stage.run(args, progress)
    except UvhuntError as exc:
        fixed = with_command_line_fix(exc, stage, stage_parser(stage.name), args, flag_of)
        if fixed is exc:
            raise
        raise fixed from exc


def run_by_name(name: str, args: argparse.Namespace, progress: ProgressFactory) -> dict:
    """``run_stage`` of the stage ``name``: picklable, for a stage run in another process."""
    return run_stage(BY_NAME[name], args, progress)


def run_named(name: str, progress: ProgressFactory | None = None, **values) -> dict:
    """Run the stage ``name`` as its command would with ``values`` (by dest) for flags, e.g.
    ``run_named("rtl", export=Path("runs/default/export"), out=Path("/tmp/rtl"))``."""
    stage = BY_NAME[name]
    return run_stage(stage, stage_arguments(stage, **values), progress or no_progress)
