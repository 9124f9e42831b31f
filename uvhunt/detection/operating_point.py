"""The operating threshold: the integer score a trigger fires above, fixed beforehand from
sessions with truth (the model's training sessions) for a stated rate of false events per
hour, so that it can travel with the model (the export manifest) to the trigger on board;
and the same for the peak-gated trigger's code (``peak_gate``), which the trigger core
computes beside the network.

Every stored threshold holds its rate at ``CONFIDENCE`` (90 %): the Poisson upper limit of
the false events counted on the sessions, per hour, is within the rate, not only the count.
The nine training sessions of the default run are 0.41 h, so 4 false events there count as
9.6 per hour; thresholds set as counted flew the core at 10.9 per hour on eight fresh
sessions (seed 2024). At 90 % the sessions may hold at most one false event (3.89 / 0.41 h =
9.4 per hour): the core's gate code goes from > 1,314 to > 1,333 and the core raised 8.2 and
6.8 per hour on the benchmark's two sets of fresh sessions, for 2 and 0 fewer of their
meteors brighter than +5 (``benchmarks/bench_trigger.py``). Sessions shorter than
``hours_needed`` (0.23 h at 10 per hour) cannot hold the rate even with no false event: a
threshold is then the highest score seen, so that the trigger never fires on them, and its
``held`` is false.
"""

import json
import math
from pathlib import Path

from uvhunt._core.progress import ProgressFactory, no_progress
from uvhunt.detection.event_quality import (
    CONFIDENCE,
    above,
    hours_needed,
    rate_held,
    threshold_for_false_rate,
    top_detections,
)
from uvhunt.detection.peak_gate import PeakGateTrigger
from uvhunt.detection.scoring import NO_WINDOW, score_all
from uvhunt.detection.stack_operating_point import (
    excluded_pixels,
    stack_candidates,
    stack_fired,
    stack_operating_point,
)
from uvhunt.detection.track_stack_integer import IntegerTrackStack
from uvhunt.euso.readers import open_movie
from uvhunt.quant.config import ModelConfig
from uvhunt.quant.golden import GoldenMLP
from uvhunt.quant.preprocess import movie_raw_counts

DEFAULT_FALSE_EVENTS_PER_HOUR = 10.0
"""The default operating point: at most 10 false events per hour of data (lights, hot
pixels, noise), the rate the flight trigger's data budget and an offline search can live
with (about 47 per hour for the best offline method on Mini-EUSO data, ../FACTS)."""
CANDIDATES_PER_SESSION = 50_000
"""Each session's highest pixel-frame scores among which the threshold is sought."""


def stored_threshold(export: Path) -> dict | None:
    """The operating threshold of an export folder's manifest (``operating_threshold``:
    ``score``, ``logit``, ...), or None for an export made without one."""
    try:
        manifest = json.loads((Path(export) / "manifest.json").read_text())
    except (OSError, ValueError):
        return None  # read_export names the problem with the folder
    return manifest.get("operating_threshold")


def core_thresholds(operating: dict | None) -> tuple[int | None, int | None]:
    """The trigger core's network score and gate code from an operating point
    (``operating_threshold``): the pair set together (``core``), or, in an export made before
    it, each bit's own; None for what the operating point lacks (no operating point; no gate
    code in an export made before the gate)."""
    if operating is None:
        return None, None
    flown = operating.get("core")
    if flown is not None:
        return int(flown["score"]), int(flown["gate_code"])
    gate = operating.get("peak_gate")
    return int(operating["score"]), None if gate is None else int(gate["code"])


def flight_score(operating: dict | None) -> int | None:
    """The network's score the flight design (``hls/flight_trigger.py``) holds: the one set
    beside the stack trigger's bits (``flight``), or, in an export made before it, the core's
    pair's (``core_thresholds``); None without an operating point."""
    if operating is not None and "flight" in operating:
        return int(operating["flight"]["score"])
    return core_thresholds(operating)[0]


def session_movies(folder: Path) -> list[Path]:
    """The session folders (``session_*``) of a simulated set, in order."""
    return sorted(p for p in Path(folder).glob("session_*") if p.is_dir())


def operating_threshold(
    golden: GoldenMLP,
    config: ModelConfig,
    sessions: list[Path],
    per_hour: float = DEFAULT_FALSE_EVENTS_PER_HOUR,
    progress: ProgressFactory | None = None,
) -> dict:
    """The lowest integer score whose events, over ``sessions`` (movies with truth), come to
    at most ``per_hour`` false events per hour at ``CONFIDENCE``; with the quality measured
    there (``held``, ``upper_limit_per_hour``: ``rate_held``); and under ``peak_gate`` the same
    for the peak-gated trigger's code; under ``core`` the trigger core's two thresholds set
    together for the rate (either bit fires: the gate's code as alone, the network's score
    raised until the two bits' events hold the rate). Each alone may use the whole rate, so the
    core must not fly the two alone thresholds together.
    Under ``track_stack``, the track stack trigger's (the integer twin's Z, alone and beside
    the gate, ``stack_operating_point``); under ``flight``, the network's score for the flight
    design, which flies every bit of both: the lowest at which they all hold the rate, the
    stack trigger's three at their stored thresholds and each session's dead and hot pixels
    masked in all, as its one mask port masks them. Progress in frames (three times).
    Raises ValueError when a session has no truth."""
    movies = [open_movie(Path(s)) for s in sessions]
    for path, movie in zip(sessions, movies, strict=True):
        if movie.events is None:
            raise ValueError(f"{path} has no truth (events.csv): cannot count false events")
    first = config.length - 1
    parts, gate_parts, stack_parts, masked_gate_parts, masked_parts = [], [], [], [], []
    gate = PeakGateTrigger(config.length).validate()
    stack = IntegerTrackStack().validate()
    frames = 3 * sum(m.frames for m in movies)
    with (progress or no_progress)(frames, "thresholds", "frame") as bar:
        for movie in movies:
            truth = (movie.events, movie.frames)
            scores = score_all(movie, golden, config.preprocessing, config.length, bar.update)
            parts.append((top_detections(scores, CANDIDATES_PER_SESSION, first), *truth))
            raw = movie_raw_counts(movie)
            codes = gate.codes(raw, config.preprocessing)
            gate_parts.append((top_detections(codes, CANDIDATES_PER_SESSION, first), *truth))
            bar.update(movie.frames)
            excluded = excluded_pixels(movie)
            z, masked = stack_candidates(stack, raw, codes, excluded, CANDIDATES_PER_SESSION, first)
            scores[:, excluded] = NO_WINDOW
            masked_parts.append((top_detections(scores, CANDIDATES_PER_SESSION, first), *truth))
            stack_parts.append((z, *truth))
            masked_gate_parts.append((masked, *truth))
            bar.update(movie.frames)
    length, confidence = config.length, CONFIDENCE
    threshold, figures = threshold_for_false_rate(
        parts, per_hour, length, first, confidence=confidence
    )
    gate_code, gate_figures = threshold_for_false_rate(
        gate_parts, per_hour, length, first, confidence=confidence
    )
    score = int(threshold)
    # the core flies either bit: the gate (which catches more alone) keeps its code, and the
    # network's bit gets what is left of the rate beside it
    gate_fired = [above(g, gate_code) for g, _, _ in gate_parts]
    core_score, core_figures = threshold_for_false_rate(
        parts, per_hour, length, first, gate_fired, confidence=confidence
    )
    stack_point = stack_operating_point(
        stack, stack_parts, masked_gate_parts, per_hour, length, first
    )
    # the flight design flies the core's network bit beside the stack trigger's three (its
    # gate bit at the stack's code): the network gets what those leave of the rate
    flight, flight_figures = threshold_for_false_rate(
        masked_parts,
        per_hour,
        length,
        first,
        stack_fired(stack_point, stack_parts, masked_gate_parts),
        confidence=confidence,
    )
    return {
        "score": score,
        "logit": math.ldexp(score, golden.output_exponent),
        "false_events_per_hour_target": per_hour,
        "confidence": confidence,
        "hours": figures["hours"],
        "hours_needed": hours_needed(per_hour, confidence),
        "rule": "a window triggers when its score is above the threshold; every threshold set "
        "for the rate held at the confidence (the Poisson upper limit of the false events "
        "counted on the sessions, per hour)",
        "sessions": [str(s) for s in sessions],
        "measured": rate_held(figures, per_hour, confidence),
        "peak_gate": {
            "trigger": gate.to_dict(),
            "code": int(gate_code),
            "z": float(gate.z(gate_code, gate.fraction_bits)),
            "rule": "a window triggers when its peak-gate code is above the threshold code",
            "measured": rate_held(gate_figures, per_hour, confidence),
        },
        "core": {
            "score": int(core_score),
            "gate_code": int(gate_code),
            "rule": "the trigger core fires when either bit does: its network bit (m_trig) "
            "when the score is above this score, its gate bit (m_gate_trig) when the code is "
            "above this code; set together for the rate: the gate's code as alone, the "
            "network's score the lowest at which the two bits' events hold it",
            "measured": rate_held(core_figures, per_hour, confidence),
        },
        "track_stack": stack_point,
        "flight": {
            "score": int(flight),
            "rule": "the flight design (hls/flight_trigger.py) fires when any of its bits does: "
            "the network's (m_trig) when the score is above this score, and the track stack "
            "trigger's three at their stored thresholds (track_stack: with_gate and "
            "coincidence; its gate bit at with_gate's code); set together for the rate: the "
            "network's score the lowest at which all their events hold it, each session's "
            "dead and hot pixels masked in all",
            "measured": rate_held(flight_figures, per_hour, confidence),
        },
    }
