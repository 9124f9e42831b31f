"""Simulate Mini-EUSO D3 sessions (48×48 pixels, 40.96 ms frames) with meteors, confusers
and their ground truth: one folder per session (see docs/formats.md)."""

from uvhunt._core.atomic import check_output
from uvhunt.console import table
from uvhunt.euso.geometry import N_PIXELS
from uvhunt.euso.session_set import (
    DEFAULT_FRAMES,
    DEFAULT_METEOR_RATE,
    DEFAULT_SESSIONS,
    session_configs,
    simulate_sessions,
)
from uvhunt.stages.stage import Stage


def add_options(p) -> None:
    add_session_options(p)
    p.add_argument("--seed", type=int, default=0, help="seed of the whole set")
    p.add_argument(
        "--plot",
        action="store_true",
        help="draw each session's clearest meteor (frame and light curves) as PNG",
    )


def add_session_options(p) -> None:
    """How many sessions, how long, how many meteors: for this stage and ``uvhunt run``."""
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


def run(args, progress) -> dict:
    check_output(args.out)
    configs = session_configs(args.sessions, args.frames, args.meteor_rate, args.seed)
    summary = simulate_sessions(args.out, configs, args.seed, progress, args.plot)
    return {**summary, "out": str(args.out)}


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


STAGE = Stage(
    name="simulate",
    folder="sessions",
    help="simulate Mini-EUSO sessions with meteors, confusers and ground truth",
    description=__doc__,
    add_options=add_options,
    run=run,
    render=render,
    settings={"rate_per_hour": "meteor_rate"},
)
