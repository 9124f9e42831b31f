"""Trigger quality as a trigger is judged: false events per hour of data against the fraction
of meteors caught, by magnitude, for a movie with simulated truth.

An event is what ``events.group`` makes of the triggered pixel-frames; it is a meteor event
when ``events.match_truth`` ties it to a simulated meteor, else a false event (city and ship
lights, hot pixels, noise: anything a meteor trigger should not fire on). A meteor is caught
when at least one event is tied to it. Efficiencies count the meteors in view only: one that
put no light into any pixel (``EventRecord.in_view``) cannot be missed by a trigger.
"""

from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2

from uvhunt.detection.events import (
    MATCH_PIXELS,
    Detections,
    TriggerEvent,
    distances_to_track,
    event_labels,
    group,
    match_truth,
)
from uvhunt.euso.events import EventRecord
from uvhunt.euso.timing import D3_S
from uvhunt.quant.metrics import MAGNITUDE_BINS


@dataclass(frozen=True)
class Outcome:
    """What a trigger's events were, against the truth."""

    events: int
    false_events: int
    """Events tied to no simulated meteor."""
    caught: frozenset
    """Ids of the simulated meteors some event is tied to."""


def outcome_of(events: list[TriggerEvent]) -> Outcome:
    """The outcome of events matched by ``events.match_truth``."""
    caught = frozenset(e.truth_id for e in events if e.truth_kind == "meteor")
    false = sum(1 for e in events if e.truth_kind != "meteor")
    return Outcome(len(events), false, caught)


def detections(scores: np.ndarray, threshold: float, first_frame: int = 0) -> Detections:
    """Pixel-frames of ``scores`` (frames, rows, cols) above ``threshold``, from
    ``first_frame`` on (NaN and the no-window value never pass)."""
    frame, row, col = np.nonzero(scores[first_frame:] > threshold)
    return Detections(
        (frame + first_frame).astype(np.int64), row, col, scores[frame + first_frame, row, col]
    )


def top_detections(scores: np.ndarray, count: int, first_frame: int = 0) -> Detections:
    """The ``count`` highest pixel-frames of ``scores`` (and any tied with the lowest of
    them), from ``first_frame`` on: the candidates of a threshold search. NaN (no score, a
    masked pixel) counts as the lowest: never a candidate."""
    tail = np.asarray(scores[first_frame:]).ravel()
    if not np.issubdtype(tail.dtype, np.integer):
        tail = np.where(np.isnan(tail), -np.inf, tail)
    count = min(count, tail.size)
    lowest = np.partition(tail, tail.size - count)[tail.size - count]
    below = lowest - 1 if np.issubdtype(tail.dtype, np.integer) else np.nextafter(lowest, -np.inf)
    return detections(scores, below, first_frame)


def above(found: Detections, threshold: float) -> Detections:
    """The detections of ``found`` whose score is above ``threshold``."""
    keep = np.asarray(found.score) > threshold
    return Detections(
        *(np.asarray(a)[keep] for a in (found.frame, found.row, found.col, found.score))
    )


def either(*found: Detections) -> Detections:
    """The pixel-frames in any of ``found`` (each trigger's detections above its own
    threshold), once each and in frame order, with score 1: the trigger bits ORed, as the
    trigger core's ``m_trig | m_gate_trig`` (the same as ``detections`` of the OR's map)."""
    keys = np.concatenate(
        [np.stack([d.frame, d.row, d.col], axis=1).astype(np.int64) for d in found]
    )
    keys = np.unique(keys.reshape(-1, 3), axis=0)
    return Detections(keys[:, 0], keys[:, 1], keys[:, 2], np.ones(len(keys), np.int64))


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


def fast_outcome(found: Detections, truth: list[EventRecord], length: int) -> Outcome:
    """``outcome_of(match_truth(group(found, ...), truth, length))`` without describing each
    event: the same grouping, peaks and matching rule, in array operations (for threshold
    searches over many detections)."""
    if not len(found):
        return Outcome(0, 0, frozenset())
    meteor, _ = _tied_events(found, truth, length)
    caught = frozenset(int(i) for i in np.unique(meteor[meteor >= 0]))
    return Outcome(len(meteor), int((meteor < 0).sum()), caught)


def first_detections(found: Detections, truth: list[EventRecord], length: int) -> dict[int, int]:
    """Each meteor caught (``fast_outcome``'s events): the first frame any event tied to it
    fired, D3 frame index (a score at frame t is decided on the frames up to t)."""
    if not len(found):
        return {}
    meteor, fired = _tied_events(found, truth, length)
    first: dict[int, int] = {}
    for m, f in zip(meteor.tolist(), fired.tolist(), strict=True):
        if m >= 0:
            first[m] = min(first.get(m, f), f)
    return first


def _tied_events(
    found: Detections, truth: list[EventRecord], length: int
) -> tuple[np.ndarray, np.ndarray]:
    """For each event of ``found`` (``event_labels``): the id of the meteor it is tied to
    (−1: none; ``events.match_truth``'s rule: of the meteors it matches, the track nearest its
    peak) and the first frame of its detections."""
    labels = event_labels(found)
    n = int(labels.max()) + 1
    order = np.lexsort((-np.asarray(found.score, np.float64), labels))  # stable: first peak
    first_of = np.searchsorted(labels[order], np.arange(n))
    peak = order[first_of]
    frames = np.asarray(found.frame)[order]
    fired = np.minimum.reduceat(frames, first_of)
    start = fired - length + 1  # the first window's first frame
    last = np.maximum.reduceat(frames, first_of)
    point = np.stack([np.asarray(found.row)[peak], np.asarray(found.col)[peak]], 1).astype(float)
    meteor, nearest = np.full(n, -1), np.full(n, np.inf)
    for record in truth:
        if record.kind != "meteor":
            continue
        distance = distances_to_track(record, point)
        near = (
            (record.end_frame >= start)
            & (record.start_frame <= last)
            & (distance <= MATCH_PIXELS)
            & (distance < nearest)
        )
        meteor[near], nearest[near] = record.id, distance[near]
    return meteor, fired


def counted_meteors(
    truth: list[EventRecord], first_frame: int = 0
) -> tuple[list[EventRecord], list[EventRecord]]:
    """The meteors efficiencies count (lit after ``first_frame`` and putting light into some
    pixel, ``EventRecord.in_view``), and those lit after it out of view."""
    late = [r for r in truth if r.kind == "meteor" and r.end_frame >= first_frame]
    return [r for r in late if r.in_view], [r for r in late if not r.in_view]


def quality(outcome: Outcome, truth: list[EventRecord], frames: int, first_frame: int = 0) -> dict:
    """False events per hour of the ``frames - first_frame`` frames scored, and the meteors
    caught per magnitude bin: meteors lit after ``first_frame`` that put light into some pixel
    (``counted_meteors``); ``meteors_out_of_view`` counts the others."""
    hours = (frames - first_frame) * D3_S / 3600.0
    meteors, out_of_view = counted_meteors(truth, first_frame)
    rows = []
    for lo in MAGNITUDE_BINS:
        inside = [m for m in meteors if lo <= m.magnitude < lo + 1]
        if inside:
            rows.append(
                {
                    "magnitude": f"{lo:+.0f}…{lo + 1:+.0f}",
                    "meteors": len(inside),
                    "caught": sum(1 for m in inside if m.id in outcome.caught),
                }
            )
    return _figures(hours, outcome.events, outcome.false_events, rows, len(out_of_view))


def combined(parts: list[dict]) -> dict:
    """The quality of several movies together (sums of hours, events and meteors)."""
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
    return _figures(
        sum(p["hours"] for p in parts),
        sum(p["events"] for p in parts),
        sum(p["false_events"] for p in parts),
        rows,
        sum(p["meteors_out_of_view"] for p in parts),
    )


def _figures(hours: float, events: int, false: int, rows: list[dict], out_of_view: int) -> dict:
    return {
        "hours": hours,
        "events": events,
        "false_events": false,
        "false_events_per_hour": false / hours if hours > 0 else float("nan"),
        "meteors": sum(r["meteors"] for r in rows),
        "meteors_caught": sum(r["caught"] for r in rows),
        "meteors_out_of_view": out_of_view,
        "by_magnitude": rows,
        "efficiency_by_magnitude": {r["magnitude"]: r["caught"] / r["meteors"] for r in rows},
    }


CONFIDENCE = 0.9
"""The confidence at which a stored threshold's rate of false events must hold on the
sessions it is set on (``threshold_for_false_rate``'s ``confidence``, ``rate_held``)."""


def poisson_upper_limit(count: int, confidence: float) -> float:
    """The upper limit at ``confidence`` (0…1) on the mean of a Poisson count of which
    ``count`` was seen (events): the mean whose chance of giving at most ``count`` is
    1 − ``confidence`` (2.30 for none seen at 0.9, 3.89 for one)."""
    if not 0 < confidence < 1:
        raise ValueError(f"a confidence is in (0, 1) (got {confidence})")
    return float(chi2.ppf(confidence, 2 * (count + 1)) / 2)


def hours_needed(rate: float, confidence: float) -> float:
    """Hours of sessions needed to hold ``rate`` false events per hour at ``confidence`` even
    with no false event (0.23 h at 10 per hour and 90 %)."""
    return poisson_upper_limit(0, confidence) / rate


def rate_held(figures: dict, rate: float, confidence: float) -> dict:
    """``figures`` (``quality``/``combined``) with ``upper_limit_per_hour``, the Poisson upper
    limit at ``confidence`` of their false events per hour of data, and ``held``: that limit
    within ``rate`` (false events per hour)."""
    limit = poisson_upper_limit(figures["false_events"], confidence) / figures["hours"]
    return {**figures, "upper_limit_per_hour": limit, "held": limit <= rate}


def threshold_for_false_rate(
    movies: list[tuple[Detections, list[EventRecord], int]],
    per_hour: float,
    length: int,
    first_frame: int = 0,
    beside: list[Detections] | None = None,
    confidence: float | None = None,
) -> tuple[float, dict]:
    """The lowest of the detections' own scores that, as the threshold (a detection passes
    when its score is above it), leaves the movies' false events at most ``per_hour`` per
    hour of data: galloping down from the highest score, then halving (the count falls with
    the threshold, up to grouping's small wiggles). ``movies``: each movie's detections above
    some floor (from ``first_frame`` on), truth and frame count; ``beside``: each movie's
    detections of another trigger, ORed with these whatever the threshold (``either``: the
    trigger core's other bit at its own threshold); ``confidence``: if given, the rate must
    hold at that confidence (``poisson_upper_limit`` of the false events counted, per hour),
    not only as counted. Returns (threshold, the combined quality there)."""
    candidates = np.unique(np.concatenate([np.asarray(d.score, np.float64) for d, _, _ in movies]))
    if not candidates.size:
        raise ValueError("no detections to choose a threshold from")

    def measure(threshold: float) -> dict:
        parts = []
        for index, (found, truth, frames) in enumerate(movies):
            fired = above(found, threshold)
            if beside is not None:
                fired = either(fired, beside[index])
            parts.append(quality(fast_outcome(fired, truth, length), truth, frames, first_frame))
        return combined(parts)

    def allowed(figures: dict) -> bool:
        if confidence is None:
            return figures["false_events_per_hour"] <= per_hour
        return (
            poisson_upper_limit(figures["false_events"], confidence) <= per_hour * figures["hours"]
        )

    lo, hi = -1, len(candidates) - 1  # candidates[hi] passes (nothing is above it)
    best = measure(candidates[hi])
    # gallop down from the top, then bisect: the thresholds tried stay near the answer, where
    # few detections pass, instead of starting at the candidates' median
    step = 1
    while hi - step > lo:
        figures = measure(candidates[hi - step])
        if not allowed(figures):
            lo = hi - step
            break
        hi, best = hi - step, figures
        step *= 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        figures = measure(candidates[mid])
        if allowed(figures):
            hi, best = mid, figures
        else:
            lo = mid
    return float(candidates[hi]), best
