"""The track stack trigger's operating thresholds (``hls/stack_trigger.py``'s threshold input),
set on sessions with truth as the network's and the peak gate's are (``operating_point``) and
stored in the export manifest beside them: the integer twin's Z alone, and Z beside the peak
gate's code (the gate given a share of the rate, the stack the rest; either fires). Each
session's dead and hot pixels are masked, as on board, found from its first ``MASK_FRAMES``
frames (``euso.bad_pixels``).

The stack's false events are counted at a confidence, as every stored threshold's are
(``operating_point``): the rate must hold at ``CONFIDENCE`` (the Poisson upper limit of the
count, ``event_quality.poisson_upper_limit``), not only as counted. The stack's tail is steep
(its false-event rate falls about 1.5 times a step of Z) and the run's nine training sessions
are short (0.41 h: 4 false events make 10 per hour), so a threshold set as counted lands a step
or two low: at Z > 106 the training sessions counted 7.2 per hour and eight fresh sessions
raised 28.7. At 90 % the stack alone takes Z > 108 (one training false event; 8.2 per hour on
those fresh sessions, 10.9 on eight of another seed), and with the gate Z > 114 (5.5 and 8.2
per hour).
"""

import dataclasses

import numpy as np

from uvhunt.detection.event_quality import (
    CONFIDENCE,
    above,
    either,
    hours_needed,
    rate_held,
    threshold_for_false_rate,
    top_detections,
)
from uvhunt.detection.events import Detections
from uvhunt.detection.scoring import NO_WINDOW
from uvhunt.detection.stack_coincidence import coincidence_point, coincident
from uvhunt.detection.track_stack import TrackStackTrigger
from uvhunt.detection.track_stack_integer import IntegerTrackStack
from uvhunt.euso.bad_pixels import find_mask
from uvhunt.euso.readers import Movie

MASK_FRAMES = 1024
"""Frames at the start of each session from which its dead and hot pixels are found (42 s)."""
GATE_SHARES = (3.0, 5.0, 7.0)
"""False events per hour left to the peak gate beside the stack (the stack gets the rest of
the rate); the share that catches the most meteors on the sessions, the rate held, is
kept."""

Candidates = tuple[Detections, list, int]
"""A movie's highest scores (``top_detections``), its truth and its frames, as
``threshold_for_false_rate`` takes them."""


def excluded_pixels(movie: Movie) -> np.ndarray:
    """The (48, 48) bool mask of a movie's dead and hot pixels, found from its first
    ``MASK_FRAMES`` frames."""
    return find_mask(dataclasses.replace(movie, frames=min(movie.frames, MASK_FRAMES))).excluded


def stack_candidates(
    stack: TrackStackTrigger,
    raw: np.ndarray,
    codes: np.ndarray,
    excluded: np.ndarray,
    count: int,
    first: int,
) -> tuple[Detections, Detections]:
    """The ``count`` highest Z of the ``stack`` on a movie of raw D3 counts (frames, 48, 48),
    and the highest of its peak-gate ``codes`` (not changed), the ``excluded`` pixels masked in
    both, from frame ``first`` on."""
    z = stack.significance(raw, excluded)
    masked = np.where(excluded[None], NO_WINDOW, codes)
    return top_detections(z, count, first), top_detections(masked, count, first)


def stack_fired(
    point: dict, stack_movies: list[Candidates], gate_movies: list[Candidates]
) -> list[Detections]:
    """Each movie's pixel-frames where the stack trigger fires at a stored ``point``
    (``stack_operating_point``'s): its Z or its gate code above the ``with_gate`` pair, or
    the ``coincidence``; from each movie's highest Z and codes (``stack_candidates``)."""
    pair, met = point["with_gate"], point["coincidence"]
    fired = []
    for (z, _, _), (codes, _, _) in zip(stack_movies, gate_movies, strict=True):
        meeting = coincident(
            above(z, met["threshold"]), above(codes, met["gate_code"]), met["frames"], met["pixels"]
        )
        fired.append(either(above(z, pair["threshold"]), above(codes, pair["gate_code"]), meeting))
    return fired


def stack_beside_gate(
    stack_movies: list[Candidates],
    gate_movies: list[Candidates],
    share: float,
    rate: float,
    length: int,
    first: int,
    confidence: float | None = CONFIDENCE,
) -> tuple[int, float, dict]:
    """The peak gate's code for ``share`` false events per hour on its own (as counted), and
    the stack's threshold for ``rate`` in all with the gate beside it at that code, at
    ``confidence``: (code, threshold, the two ORed there)."""
    code, _ = threshold_for_false_rate(gate_movies, share, length, first)
    beside = [above(found, code) for found, _, _ in gate_movies]
    threshold, figures = threshold_for_false_rate(
        stack_movies, rate, length, first, beside=beside, confidence=confidence
    )
    return int(code), threshold, figures


def stack_operating_point(
    stack: TrackStackTrigger,
    stack_movies: list[Candidates],
    gate_movies: list[Candidates],
    rate: float,
    length: int,
    first: int,
    confidence: float = CONFIDENCE,
) -> dict:
    """The stack's thresholds for at most ``rate`` false events per hour at ``confidence``
    over the movies: alone, and beside the peak gate at the share of ``GATE_SHARES`` that
    catches the most meteors among those that hold the rate, and the stack–gate
    coincidence's beside those two (``stack_coincidence.coincidence_point``); with the
    figures measured there (``upper_limit_per_hour``: the rate at that confidence; ``held``: within
    ``rate``). Where the rate cannot be held (sessions shorter than ``hours_needed``, even
    with no false event; or a gate whose share, set as counted, already breaks it), the
    search ends at the stack's highest score, so that the stack never fires on the sessions
    (the gate still does), and ``held`` is false. An integer stack's thresholds are integers
    (Z, 2^−F σ)."""
    number = int if isinstance(stack, IntegerTrackStack) else float

    def measured(figures: dict) -> dict:
        return rate_held(figures, rate, confidence)

    def rank(point: dict) -> tuple[bool, int]:
        return point["measured"]["held"], point["measured"]["meteors_caught"]

    threshold, alone = threshold_for_false_rate(
        stack_movies, rate, length, first, confidence=confidence
    )
    best = None
    for share in GATE_SHARES:
        code, shared, figures = stack_beside_gate(
            stack_movies, gate_movies, share, rate, length, first, confidence
        )
        point = {
            "threshold": number(shared),
            "gate_code": code,
            "gate_share": share,
            "measured": measured(figures),
        }
        if best is None or rank(point) > rank(best):
            best = point
    coincidence = coincidence_point(
        stack_movies,
        gate_movies,
        best["threshold"],
        best["gate_code"],
        rate,
        length,
        first,
        confidence,
    )
    beside = coincidence.pop("figures")
    return {
        "trigger": stack.to_dict(),
        "false_events_per_hour_target": rate,
        "confidence": confidence,
        "hours": alone["hours"],
        "hours_needed": hours_needed(rate, confidence),
        "mask_frames": MASK_FRAMES,
        "rule": "a pixel-frame triggers when its Z is above the threshold (alone), or when its "
        "Z is above the shared threshold or its peak-gate code above the gate code (with the "
        "gate); each session's dead and hot pixels masked, found from its first frames",
        "alone": {"threshold": number(threshold), "measured": measured(alone)},
        "with_gate": best,
        "coincidence": {
            **coincidence,
            "threshold": number(coincidence["threshold"]),
            "rule": "beside the stack and the gate (with_gate), a pixel-frame also fires when "
            "its Z is above this threshold and a peak-gate code above this code lies within "
            "the frames and pixels given (``stack_coincidence``)",
            "measured": best["measured"] if beside is None else measured(beside),
        },
    }
