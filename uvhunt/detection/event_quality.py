"""Trigger quality as a trigger is judged: false events per hour of data against the fraction
of meteors caught, by magnitude, for a movie with simulated truth.

An event is what ``events.group`` makes of the triggered pixel-frames; it is a meteor event
when ``events.match_truth`` ties it to a simulated meteor, else a false event (city and ship
lights, hot pixels, noise: anything a meteor trigger should not fire on). A meteor is caught
when at least one event is tied to it.
"""

import numpy as np

from uvhunt.detection.events import Detections, TriggerEvent, group, match_truth
from uvhunt.euso.events import EventRecord
from uvhunt.euso.timing import D3_S
from uvhunt.quant.metrics import MAGNITUDE_BINS


def detections(scores: np.ndarray, threshold: float, first_frame: int = 0) -> Detections:
    """Pixel-frames of ``scores`` (frames, rows, cols) above ``threshold``, from
    ``first_frame`` on (NaN and the no-window value never pass)."""
    frame, row, col = np.nonzero(scores[first_frame:] > threshold)
    return Detections(
        (frame + first_frame).astype(np.int64), row, col, scores[frame + first_frame, row, col]
    )


def events_at(
    scores: np.ndarray,
    threshold: float,
    truth: list[EventRecord],
    length: int,
    exponent: int = 0,
    first_frame: int = 0,
) -> list[TriggerEvent]:
    """The events of ``scores`` above ``threshold``, matched to the truth; ``length``: frames
    a decision looks back (dates each event's start); ``exponent``: score to logit."""
    found = detections(scores, threshold, first_frame)
    return match_truth(group(found, exponent, length), truth, length)


def quality(
    events: list[TriggerEvent], truth: list[EventRecord], frames: int, first_frame: int = 0
) -> dict:
    """False events per hour of the ``frames - first_frame`` frames scored, and the meteors
    caught per magnitude bin (meteors lit after ``first_frame`` only)."""
    hours = (frames - first_frame) * D3_S / 3600.0
    false = sum(1 for e in events if e.truth_kind != "meteor")
    caught = {e.truth_id for e in events if e.truth_kind == "meteor"}
    meteors = [r for r in truth if r.kind == "meteor" and r.end_frame >= first_frame]
    rows = []
    for lo in MAGNITUDE_BINS:
        inside = [m for m in meteors if lo <= m.magnitude < lo + 1]
        if inside:
            rows.append(
                {
                    "magnitude": f"{lo:+.0f}…{lo + 1:+.0f}",
                    "meteors": len(inside),
                    "caught": sum(1 for m in inside if m.id in caught),
                }
            )
    return {
        "hours": hours,
        "events": len(events),
        "false_events": false,
        "false_events_per_hour": false / hours if hours > 0 else float("nan"),
        "meteors": len(meteors),
        "meteors_caught": sum(1 for m in meteors if m.id in caught),
        "by_magnitude": rows,
        "efficiency_by_magnitude": {r["magnitude"]: r["caught"] / r["meteors"] for r in rows},
    }


def combined(parts: list[dict]) -> dict:
    """The quality of several movies together (sums of hours, events and meteors)."""
    hours = sum(p["hours"] for p in parts)
    false = sum(p["false_events"] for p in parts)
    bins: dict[str, list[int]] = {}
    for p in parts:
        for r in p["by_magnitude"]:
            counts = bins.setdefault(r["magnitude"], [0, 0])
            counts[0] += r["meteors"]
            counts[1] += r["caught"]
    rows = [
        {"magnitude": k, "meteors": m, "caught": c}
        for k, (m, c) in sorted(bins.items(), key=lambda kv: float(kv[0].split("…")[0]))
    ]
    return {
        "hours": hours,
        "events": sum(p["events"] for p in parts),
        "false_events": false,
        "false_events_per_hour": false / hours if hours > 0 else float("nan"),
        "meteors": sum(p["meteors"] for p in parts),
        "meteors_caught": sum(p["meteors_caught"] for p in parts),
        "by_magnitude": rows,
        "efficiency_by_magnitude": {r["magnitude"]: r["caught"] / r["meteors"] for r in rows},
    }


def threshold_for_false_rate(
    movies: list[tuple[np.ndarray, list[EventRecord]]],
    per_hour: float,
    length: int,
    first_frame: int = 0,
    steps: int = 24,
) -> tuple[float, dict]:
    """The lowest threshold (of the scores' own values) at which the movies' false events
    come to at most ``per_hour`` per hour of data, by bisection over the upper quantiles of
    the scores (the false-event count falls with the threshold, up to grouping's small
    wiggles). Returns (threshold, the combined quality there)."""
    tops = np.concatenate(
        [
            np.sort(s[first_frame:][np.isfinite(s[first_frame:])].ravel())[-200_000:]
            for s, _ in movies
        ]
    )
    candidates = np.unique(tops)

    def measure(threshold: float) -> dict:
        return combined(
            [
                quality(
                    events_at(s, threshold, truth, length, first_frame=first_frame),
                    truth,
                    len(s),
                    first_frame,
                )
                for s, truth in movies
            ]
        )

    lo, hi = 0, len(candidates) - 1  # candidates[hi] passes (nothing above it)
    best = measure(candidates[hi])
    for _ in range(steps):
        if hi - lo <= 1:
            break
        mid = (lo + hi) // 2
        figures = measure(candidates[mid])
        if figures["false_events_per_hour"] <= per_hour:
            hi, best = mid, figures
        else:
            lo = mid
    return float(candidates[hi]), best
