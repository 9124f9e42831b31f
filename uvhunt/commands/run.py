"""Run every pipeline stage that exists so far on the built-in default, into one run folder:
simulate sessions, then cut them into labelled windows."""

from pathlib import Path

from uvhunt.atomic import check_output
from uvhunt.commands import simulate, windows
from uvhunt.console import emit, progress
from uvhunt.errors import UvhuntError
from uvhunt.sessions import (
    DEFAULT_FRAMES,
    DEFAULT_METEOR_RATE,
    DEFAULT_SESSIONS,
    session_configs,
    simulate_sessions,
)
from uvhunt.windowing import make_windows, window_config

NAME = "run"
HELP = "run the whole pipeline on the built-in default (simulate → windows)"


def add_arguments(p) -> None:
    p.add_argument("--out", type=Path, default=Path("runs/default"), help="run folder")
    p.add_argument("--sessions", type=int, default=DEFAULT_SESSIONS, help="number of sessions")
    p.add_argument("--frames", type=int, default=DEFAULT_FRAMES, help="D3 frames per session")
    p.add_argument(
        "--meteor-rate",
        type=float,
        default=DEFAULT_METEOR_RATE,
        help="meteors brighter than +6 per hour (natural: about 30); fainter ones come on top",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the whole run")


def main(args) -> int:
    check_output(args.out)
    configs = session_configs(args.sessions, args.frames, args.meteor_rate, args.seed)
    window = window_config(seed=args.seed)
    if window.nominal_count(args.frames) == 0:
        raise UvhuntError(
            f"sessions of {args.frames} frames are shorter than one window "
            f"({window.length} frames)",
            fix=f"use --frames >= {window.length}",
        )
    sessions_dir, windows_dir = args.out / "sessions", args.out / "windows"
    with progress(sum(c.frames for c in configs), "simulate", "frame", args.quiet) as bar:
        sim = simulate_sessions(sessions_dir, configs, args.seed, bar.update)
    sim["out"] = str(sessions_dir)
    win = make_windows(
        [sessions_dir],
        windows_dir,
        window,
        None,
        lambda total: progress(total, "windows", "start", args.quiet),
    )
    win["out"] = str(windows_dir)
    summary = {"run": str(args.out), "simulate": sim, "windows": win}
    text = "\n\n".join([simulate.render(sim), windows.render(win), f"run folder: {args.out}"])
    emit(summary, text, args.json)
    return 0
