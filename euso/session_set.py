"""A set of simulated sessions in one folder (one night apart), as the pipeline trains on."""

from dataclasses import replace
from pathlib import Path

import numpy as np

from uvhunt._core.atomic import atomic_dir, write_json
from uvhunt._core.errors import UvhuntError
from uvhunt._core.progress import ProgressFactory, no_progress
from uvhunt.euso.meteors import MeteorConfig
from uvhunt.euso.plot import plot_session
from uvhunt.euso.session import FIRST_SESSION_UNIX, SessionConfig, SessionSimulator
from uvhunt.euso.store import open_session, write_session

DEFAULT_SESSIONS = 9
"""As in the seed study: nine observation sessions."""
DEFAULT_FRAMES = 4096
"""D3 frames per default session (168 s): keeps the default pipeline quick."""
DEFAULT_METEOR_RATE = 600.0
"""Meteors per hour in the default sessions: 20× the natural ≈30/h, so that short sessions
hold enough meteors to learn from. Use 30 for the natural rate."""
SECONDS_PER_NIGHT = 86400.0
PLOT_NAME = "meteor.png"


def session_seed(seed: int, index: int) -> int:
    """Seed of session ``index`` of a set simulated with ``seed`` (independent streams)."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def session_configs(
    n_sessions: int, frames: int, meteor_rate: float, seed: int
) -> list[SessionConfig]:
    """Validated configs of a set of sessions (one night apart)."""
    if n_sessions < 1:
        raise UvhuntError(
            f"the number of sessions must be at least 1 (got {n_sessions})",
            fix="ask for one session or more",
            setting="sessions",
        )
    if seed < 0:
        raise UvhuntError(
            f"the seed must be >= 0 (got {seed})", fix="use a non-negative seed", setting="seed"
        )
    base = SessionConfig(frames=frames, meteors=MeteorConfig(rate_per_hour=meteor_rate))
    try:
        base.validate()
    except ValueError as exc:
        raise UvhuntError(
            f"invalid session setting: {exc}",
            fix="use at least 1 frame and a meteor rate from 0 to 1e+06 per hour",
        ) from exc
    return [
        replace(base, start_unix=FIRST_SESSION_UNIX + i * SECONDS_PER_NIGHT)
        for i in range(n_sessions)
    ]


def simulate_sessions(
    out: Path,
    configs: list[SessionConfig],
    seed: int,
    progress: ProgressFactory | None = None,
    plot: bool = False,
) -> dict:
    """Write ``session_NN`` folders and ``sessions.json`` into ``out`` (replaced atomically).
    Progress in frames.

    With ``plot``, each session folder also gets ``meteor.png`` (see ``euso.plot``).
    """
    sessions = []
    total = sum(c.frames for c in configs)
    with atomic_dir(Path(out)) as tmp, (progress or no_progress)(total, "simulate", "frame") as bar:
        for index, config in enumerate(configs):
            sim = SessionSimulator(config, session_seed(seed, index))
            name = f"session_{index:02d}"
            meta = write_session(sim, tmp / name, bar.update)
            sessions.append({"name": name, **_session_summary(meta, sim)})
            if plot:
                plot_session(open_session(tmp / name), tmp / name / PLOT_NAME)
                sessions[-1]["plot"] = str(Path(out) / name / PLOT_NAME)
        summary = {"seed": seed, "sessions": sessions, "totals": _totals(sessions)}
        write_json(tmp / "sessions.json", summary)
    return summary


def _session_summary(meta: dict, sim: SessionSimulator) -> dict:
    visible = [e for e in sim.events if e.kind == "meteor" and e.in_view]
    return {
        "seed": meta["seed"],
        "frames": meta["frames"],
        "duration_s": meta["duration_s"],
        "events": meta["event_counts"],
        "meteors_brighter_than_6": sum(e.magnitude < 6.0 for e in visible),
    }


def _totals(sessions: list[dict]) -> dict:
    totals = {
        "frames": sum(s["frames"] for s in sessions),
        "duration_s": sum(s["duration_s"] for s in sessions),
        "meteors_brighter_than_6": sum(s["meteors_brighter_than_6"] for s in sessions),
    }
    for kind in sessions[0]["events"]:
        totals[kind] = sum(s["events"][kind] for s in sessions)
    return totals
