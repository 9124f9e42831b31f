"""Run every stage of the registry on the built-in default, into one run folder: simulate
sessions, cut them into labelled windows, train the float and QAT MLPs, evaluate them session
by session against the baselines, export to QONNX and check the bit-exact chain, generate
the hls4ml firmware project and check its C simulation against the golden model, generate
the RTL, co-simulate it with cocotb in Verilator, synthesize it with Yosys for its
resources, scan a session for meteors with the firmware's integer model (detect), and write
the report. Unchanged stages are reused."""

import argparse
import contextlib
import time
from pathlib import Path

from uvhunt import __version__
from uvhunt._core.atomic import check_output
from uvhunt._core.background import Background
from uvhunt._core.errors import UvhuntError
from uvhunt._core.layout import DEFAULT_RUN
from uvhunt.console import emit, progress_bars, say
from uvhunt.euso.session_set import session_configs
from uvhunt.hls.core_build import CoreConfig
from uvhunt.stages import STAGES, run_by_name, run_stage, stage_arguments, stage_parser
from uvhunt.stages.cache import StagePlan
from uvhunt.stages.core import SEU_FAULTS
from uvhunt.stages.evaluate import add_test_negatives, check_test_negatives
from uvhunt.stages.model_options import (
    add_model_arguments,
    add_train_arguments,
    model_config,
    train_config,
)
from uvhunt.stages.simulate import add_session_options
from uvhunt.stages.stage import Stage
from uvhunt.stages.windows import window_config

HELP = "run the whole pipeline on the built-in default (simulate → … → detect, report)"
NAMES = [stage.name for stage in STAGES]
OWN = {"out", "start", "only", "json", "handler", "command"}
"""Options of ``uvhunt run`` itself; every other one is passed to the stages that have it."""


def add_arguments(p) -> None:
    p.add_argument("--out", type=Path, default=DEFAULT_RUN, help="run folder")
    p.add_argument(
        "--from",
        dest="start",
        metavar="STAGE",
        default=None,
        help=f"rerun this stage and every later one ({', '.join(NAMES)})",
    )
    p.add_argument(
        "--only", metavar="STAGE", default=None, help="run only this stage (its inputs must exist)"
    )
    add_session_options(p)
    add_test_negatives(p)
    p.add_argument(
        "--core-pixels",
        dest="pixels",
        type=int,
        default=CoreConfig.pixels,
        help="pixels per frame of the trigger core (48 × 48; fewer for quick runs)",
    )
    p.add_argument(
        "--seu-faults",
        type=int,
        default=SEU_FAULTS,
        help="single-event upsets the trigger core's campaign injects per fault place",
    )
    add_model_arguments(p)
    add_train_arguments(p)


def stage_args(stage: Stage, args: argparse.Namespace, folders: dict[str, Path]):
    """A stage's arguments in the run: its defaults, the run's options it shares, its own
    settings for the run (``Stage.in_run``), and its inputs and output in the run folder."""
    inputs = {source.dest for source in stage.inputs}
    defaults = stage_arguments(stage)
    shared = {
        dest: value
        for dest, value in vars(args).items()
        if dest not in OWN and dest not in inputs and hasattr(defaults, dest)
    }
    values = {**shared, **stage.in_run, "json": False}
    for source in stage.inputs:
        path = folders[source.stage] / source.inside if source.inside else folders[source.stage]
        values[source.dest] = [path] if source.many else path
    values["out"] = folders[stage.name]
    if stage.whole_run:
        values["run"] = args.out
    result = stage_arguments(stage, **values)
    if stage.whole_run:
        result.folders = folders
    return result


def check(args) -> None:
    """Everything that can be checked before the first stage runs."""
    check_output(args.out)
    model_config(args)
    train_config(args)
    check_test_negatives(args.test_negatives)
    session_configs(args.sessions, args.frames, args.meteor_rate, args.seed)
    windows = next(s for s in STAGES if s.name == "windows")
    window = window_config(stage_arguments(windows, **windows.in_run, seed=args.seed))
    if window.nominal_count(args.frames) == 0:
        raise UvhuntError(
            f"sessions of {args.frames} frames are shorter than one window "
            f"({window.length} frames)",
            fix=f"use --frames >= {window.length}",
        )
    if args.sessions < 2:
        raise UvhuntError(
            "the session-by-session evaluation needs at least two sessions",
            fix="use --sessions 2 or more",
        )


def main(args) -> int:
    check(args)
    folders = {stage.name: Path(args.out) / stage.folder for stage in STAGES}
    plan = StagePlan(
        NAMES,
        {s.name: _depends(s) for s in STAGES},
        args.out,
        __version__,
        args.start,
        args.only,
    )
    progress = progress_bars(args.quiet)
    # seconds: each stage that ran, wall clock from its start to its result
    summary = {"run": str(args.out), "stages": {}, "seconds": {}}
    started: dict[str, float] = {}
    backgrounded: set[str] = set()
    running: dict[str, Background] = {}  # started in the background, not yet waited for

    def record(name: str, result: dict) -> None:
        summary[name] = result
        plan.record(name, result)
        summary["stages"][name] = "ran"
        summary["seconds"][name] = round(time.perf_counter() - started[name], 1)

    def finish(name: str) -> None:
        try:
            result = running.pop(name).result(progress)
        except UvhuntError as exc:
            raise _failed(name, exc, args.out) from exc
        record(name, result)

    def begin(stage: Stage) -> None:
        """Reuse, start in the background, or run ``stage`` (its inputs done)."""
        name = stage.name
        for waited in [n for n in running if n in plan.inputs[name]]:
            finish(waited)
        arguments = stage_args(stage, args, folders)
        plan.key(name, stage.settings_of(stage_parser(name), arguments))
        cached = plan.cached(name, folders[name])
        if cached is not None:
            summary[name] = cached
            summary["stages"][name] = "cached"
            say(f"{name}: unchanged, reused from {folders[name]}", args.quiet)
            return
        summary["stages"][name] = "running"
        started[name] = time.perf_counter()
        if stage.background and args.only is None:
            running[name] = Background(run_by_name, name, arguments)
            backgrounded.add(name)
            say(
                f"{name}: running in the background beside the next stages; its progress "
                "shows when the run waits for it",
                args.quiet,
            )
            return
        try:
            result = run_stage(stage, arguments, progress)
        except UvhuntError as exc:
            later = [n for n in running if NAMES.index(n) > NAMES.index(name)]
            raise _failed(name, exc, args.out, later) from exc
        record(name, result)

    try:
        for stage in STAGES:
            if stage.name in summary["stages"] or plan.skipped(stage.name):
                continue  # begun early (below), or after --only's stage
            if stage.optional and args.only != stage.name:
                continue
            if args.only is None:  # a later background stage whose inputs are done starts now
                for early in _ready_in_background(stage, summary["stages"], plan.inputs):
                    begin(early)
            begin(stage)
        for name in list(running):
            finish(name)
    except UvhuntError:
        # a stage failed: the background ones still finish, so a resumed run reuses them
        for name in list(running):
            with contextlib.suppress(Exception):
                finish(name)
        raise
    finally:
        for background in running.values():  # a bug or an interrupt: nothing left running
            background.stop()
    rendered = [stage.render(summary[stage.name]) for stage in STAGES if stage.name in summary]
    text = "\n\n".join(
        [
            *rendered,
            "stages: " + ", ".join(f"{n} {how}" for n, how in summary["stages"].items()),
            *_timing_line(summary["seconds"], backgrounded),
            f"run folder: {args.out}",
            *([f"report: {summary['report']['html']}"] if "report" in summary else []),
        ]
    )
    emit(summary, text, args.json)
    return 0


def _timing_line(seconds: dict[str, float], background: set[str]) -> list[str]:
    """The stages' wall-clock times in one line (none if nothing ran)."""
    if not seconds:
        return []
    parts = [
        f"{name} {value:,.0f} s" + (" (in the background)" if name in background else "")
        for name, value in seconds.items()
    ]
    return ["stage times: " + ", ".join(parts)]


def _failed(name: str, exc: UvhuntError, out: Path, kept: list[str] = ()) -> UvhuntError:
    """A stage's error as the run reports it, with the command that resumes the run.
    ``kept``: later stages running in the background, which finish and are kept: ``--from``
    would run them again, so the advice is a plain run (the failed stage has no result)."""
    if kept:
        resume = (
            f"resume with `uvhunt run --out {out}` (the earlier stages' results, and "
            f"{', '.join(kept)} finished in the background, are kept and reused)"
        )
    else:
        resume = f"resume with `uvhunt run --out {out} --from {name}` (the earlier stages' "
        resume += "results are kept)"
    return UvhuntError(
        f"stage '{name}' failed: {exc.problem}",
        path=exc.path,
        fix=f"{exc.fix + '; then ' if exc.fix else ''}{resume}",
    )


def _ready_in_background(
    stage: Stage, begun: dict[str, str], inputs: dict[str, list[str]]
) -> list[Stage]:
    """The background stages after ``stage`` not yet begun whose inputs are all begun and
    none of them running in the foreground: they can start before ``stage`` (the evaluation
    beside the training)."""
    later = STAGES[STAGES.index(stage) + 1 :]
    return [
        s
        for s in later
        if s.background
        and not s.optional
        and s.name not in begun
        and all(begun.get(n) in ("ran", "cached") for n in inputs[s.name])
    ]


def _depends(stage: Stage) -> list[str]:
    """The stages whose results this one reads: its inputs', or every earlier stage's."""
    if stage.whole_run:
        return NAMES[: NAMES.index(stage.name)]
    return list(dict.fromkeys(source.stage for source in stage.inputs))
