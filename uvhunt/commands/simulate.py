"""Simulate Mini-EUSO D3 sessions (48×48 pixels, 40.96 ms frames) with meteors, confusers
and their ground truth: one folder per session (see docs/formats.md)."""

from pathlib import Path

from euso.geometry import N_PIXELS
from uvhunt.atomic import check_output
from uvhunt.console import emit, progress, table
from uvhunt.run_layout import default_folder
from uvhunt.sessions import (
    DEFAULT_FRAMES,
    DEFAULT_METEOR_RATE,
    DEFAULT_SESSIONS,
    session_configs,
    simulate_sessions,
)

NAME = "simulate"
HELP = "simulate Mini-EUSO sessions with meteors, confusers and ground truth"


def add_arguments(p) -> None:
    p.add_argument(
        "--out", type=Path, default=default_folder("simulate"), help="output folder (replaced)"
    )
    p.add_argument("--sessions", type=int, default=DEFAULT_SESSIONS, help="number of sessions")
    p.add_argument(
        "--frames",
        type=int,
        default=DEFAULT_FRAMES,
        help="D3 frames per session (87,890 = one hour)",
    )
    p.add_argument(
        "--meteor-rate",
        type=float,
        default=DEFAULT_METEOR_RATE,
        help="meteors brighter than +6 per hour in view (natural: about 30); fainter ones on top",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the whole set")
    p.add_argument(
        "--plot",
        action="store_true",
        help="draw each session's clearest meteor (frame and light curves) as PNG",
    )


def main(args) -> int:
    check_output(args.out)
    configs = session_configs(args.sessions, args.frames, args.meteor_rate, args.seed)
    total = sum(c.frames for c in configs)
    with progress(total, "simulate", "frame", args.quiet) as bar:
        summary = simulate_sessions(args.out, configs, args.seed, bar.update, args.plot)
    summary["out"] = str(args.out)
    emit(summary, render(summary), args.json)
    return 0


def render(summary: dict) -> str:
    kinds = list(summary["sessions"][0]["events"])
    rows = [
        [
            s["name"],
            s["seed"],
            s["frames"],
            s["duration_s"],
            s["meteors_brighter_than_6"],
            *(s["events"][k] for k in kinds),
        ]
        for s in summary["sessions"]
    ]
    t = summary["totals"]
    rows.append(
        [
            "total",
            "",
            t["frames"],
            t["duration_s"],
            t["meteors_brighter_than_6"],
            *(t[k] for k in kinds),
        ]
    )
    text = table(rows, ["session", "seed", "frames", "seconds", "meteors<+6", *kinds])
    lines = [text, "", f"{t['frames']:,} frames × {N_PIXELS:,} pixels written to {summary['out']}"]
    lines += [f"plot: {s['plot']}" for s in summary["sessions"] if "plot" in s]
    return "\n".join(lines)
