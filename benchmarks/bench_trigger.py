"""Benchmark of issue 12: trigger quality at the stored operating threshold, on simulated
sessions never used for training or for choosing the threshold.

Fresh sessions (their own seed, one night apart, so the moon and the clouds vary) are scanned
with the export's integer golden model at the threshold stored in the export manifest; the
events are grouped and matched to the truth as `uvhunt detect` does. The conventional trigger
(a moving sum against the running background, in Poisson σ), its sum and background lengths
tuned on the export's training sessions as `uvhunt evaluate` tunes them, is set to the same
false-event rate over the same sessions, and both are counted from the first frame where
every setting has a score. An event-level ROC goes with it: at 10 to 1,000 false events per
hour, both triggers' thresholds set on the fresh sessions themselves, the meteors each
catches. The peak-gated trigger (``detection.peak_gate``, nothing learned, the integers the
trigger core computes) is measured beside them: at its threshold code stored in the export
(set on the training sessions for the stored false-event rate held at 90 % confidence, as
every stored threshold is, ``detection.operating_point``), and on the same ROC; and so are
the core's two trigger bits together (the network's or the peak gate's, at the thresholds
stored for the core, set together for the rate: the gate's code, and the network's score
raised until the two bits' events hold it), also session by session with each session's
background and sky, since faint meteors are lost under bright skies first, and against what
a per-pixel trigger could see at all: each meteor's best single-pixel 5-frame sum in Poisson σ
of everything else there, from the simulator's expected light (``euso.visibility``), with
the visible ones caught split by speed (the slow ones look like the ground's drift), and the
meteors whose tracks reach the edge of the focal surface counted apart from those inside,
and the lost ones near whose tracks a detection lay while they were lit (grouped into an event
whose peak lies elsewhere: another meteor's or a light's), this for the track stack ORed with
the gate too. The track stack trigger (``detection.track_stack``: bumps summed along straight
tracks over several pixels; by default its integer twin, ``detection.track_stack_integer``,
what ``hls/stack_trigger.py`` computes, ``--stack float`` for the float definition) is measured
alone and ORed with the peak gate at its thresholds stored in the export (set on the training
sessions for the rate at 90 % confidence, ``detection.stack_operating_point``; for the float,
set here the same way), and on the ROC (alone, and ORed with the gate at the same share of each
rate); with the stack–gate coincidence beside the two (``detection.stack_coincidence``, in
hardware ``hls/stack_coincidence.py``) at its thresholds stored in the export. Each session's
dead and hot pixels are masked in both triggers, found (``euso.bad_pixels``) from its own first
frames, as a mask on board would be found from the data before. And speed, each trigger's: the
CPU time of its scores per frame (software, this machine), and at its threshold the decision
delay, from a meteor's first lit frame to the frame at which its first event is decided (for
the track stack its ``latency`` after the track's end; the conventional trigger's at the
network's false-event rate and, where it catches some, at the ROC's highest rate beside the
network's there).

And the flight design as a whole (``hls/flight_trigger.py``): every trigger bit it raises ORed,
the network's at the score stored for it beside the stack trigger's three (``flight``; the
core's pair's in an export made before it) and those at theirs.

Floors, for the core's two bits, the network alone, the track stack ORed with the gate, that
with the coincidence, and the flight design's every bit:
at most 10 false events per hour of data; at least 90% of the meteors brighter than +5 caught
and at least 50% of those between +5 and +6; more meteors caught than the
conventional trigger at the same false-event rate; and (with --evaluation) the QAT MLP's mean
window AUC at least the best baseline's.

Run ``uvhunt run`` first, then ``python benchmarks/bench_trigger.py [--export
runs/default/export] [--sessions 8] [--frames 8192] [--json]``. Exits 1 if a floor is missed.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from uvhunt.console import quality_sentence
from uvhunt.detection.event_evaluation import (
    conventional_grid,
    conventional_top,
    first_scored_frame,
    tune_conventional,
)
from uvhunt.detection.event_evaluation_report import BRIGHT, FAINT, group_counts
from uvhunt.detection.event_quality import (
    above,
    combined,
    counted_meteors,
    detections,
    either,
    events_at,
    fast_outcome,
    first_detections,
    outcome_of,
    quality,
    threshold_for_false_rate,
    top_detections,
)
from uvhunt.detection.events import MATCH_PIXELS, Detections, distances_to_track
from uvhunt.detection.operating_point import core_thresholds, flight_score, stored_threshold
from uvhunt.detection.peak_gate import PeakGateTrigger
from uvhunt.detection.scoring import NO_WINDOW, score_all
from uvhunt.detection.stack_coincidence import coincident, describe
from uvhunt.detection.stack_operating_point import (
    excluded_pixels,
    stack_beside_gate,
    stack_candidates,
    stack_operating_point,
)
from uvhunt.detection.track_stack import TrackStackTrigger
from uvhunt.detection.track_stack_integer import IntegerTrackStack
from uvhunt.euso.geometry import N_SIDE
from uvhunt.euso.readers import open_movie
from uvhunt.euso.session import SessionSimulator
from uvhunt.euso.session_set import session_configs, session_seed
from uvhunt.euso.store import write_session
from uvhunt.euso.timing import D3_S
from uvhunt.euso.visibility import meteor_visibility
from uvhunt.quant.golden import read_export
from uvhunt.quant.preprocess import movie_raw_counts

CANDIDATES = 200_000
"""Highest scores (network) and significances (conventional) kept per session for the
threshold searches."""
VISIBLE_SIGMA = 6.0
"""A meteor is visible to a per-pixel trigger when its best single-pixel 5-frame sum stands
this many Poisson σ above everything else in those pixel-frames (``euso.visibility``): noise
alone passes about 5.3 σ a few times in the benchmark's 1.4 × 10⁸ pixel-frames, so a
per-pixel trigger at 10 false events per hour cannot reach far below 6."""
SLOW_PX_PER_FRAME = 0.1
"""Meteors slower than this (twice the ground's drift, 0.05 pixel per frame) light a pixel
for 10 frames or more: on one pixel they make the bump that drifting ground light makes."""
CURVE_RATES = (10.0, 30.0, 100.0, 300.0, 1000.0)
"""False events per hour of the event-level ROC: both triggers' thresholds set on the fresh
sessions themselves for each rate (the operating point uses the stored threshold)."""

EDGE_PIXELS = 1.0
"""A meteor's track reaches the edge of the focal surface when one of its ends lies this many
pixel pitches or fewer from the outermost pixels' centres, or beyond them: it enters, leaves
or grazes the field of view, and part of its light falls outside."""

SPEED = ("network", "conventional", "peak_gate", "track_stack")
"""The triggers whose scores' CPU time is measured (``time.process_time``: every thread of
the process; the network scores on ``scoring.WORKERS`` threads, the others on one)."""
DELAYED = ("network", "conventional", "peak_gate", "core", "track_stack_or_gate")
"""The triggers whose decision delays are measured at their thresholds (the conventional
trigger's at the network's false-event rate)."""

SKY = ("moonlight_per_gtu", "airglow_per_gtu", "cloud_cover")
"""The session conditions reported beside each session's figures."""


def _caught_fraction(q: dict, group: str) -> float:
    """Meteors caught over meteors in view in the magnitude group ``group`` of ``q``."""
    caught, meteors = group_counts(q["by_magnitude"])[group]
    return caught / max(1, meteors)


def _floors(name: str, q: dict) -> dict[str, bool]:
    """The issue's three trigger floors on a trigger's figures ``q`` (``combined``'s): at most
    10 false events per hour, 90 % of the meteors brighter than +5, 50 % at +5…+6."""
    return {
        f"{name}: false events per hour <= 10": q["false_events_per_hour"] <= 10,
        f"{name}: meteors brighter than +5 caught >= 90%": _caught_fraction(q, BRIGHT) >= 0.9,
        f"{name}: meteors +5…+6 caught >= 50%": _caught_fraction(q, FAINT) >= 0.5,
    }


def _session_row(index: int, path: Path, raw: np.ndarray, core: dict) -> dict:
    """One session's sky (its background, raw D3 counts a frame, the median over pixels
    and frames; moonlight and airglow, counts per GTU; cloud cover, fraction) and the core's
    figures there."""
    sky = json.loads((path / "session.json").read_text())["conditions"]
    counts = group_counts(core["by_magnitude"])
    return {
        "session": index,
        "background_median": float(np.median(raw[:: max(1, len(raw) // 64)])),
        **{k: round(float(sky[k]), 3) for k in SKY},
        "false_events": core["false_events"],
        "hours": core["hours"],
        "brighter_than_5": list(counts[BRIGHT]),
        "between_5_and_6": list(counts[FAINT]),
    }


def _visibility_rows(
    truth, seen: dict, found: Detections, caught: frozenset, first: int, length: int
) -> list[dict]:
    """One row per meteor the efficiencies count (``counted_meteors``) brighter than +6: its
    magnitude, speed (pixels per frame), best single-pixel ratio (σ), whether it is in
    ``caught`` (the outcome of a trigger's detections ``found``) and whether one of ``found``
    lay near its track while it was lit (``_fired_near``)."""
    return [
        {
            "magnitude": r.magnitude,
            "speed": r.speed_px_per_frame,
            "pixel_sigma": seen[r.id].pixel,
            "at_edge": _at_edge(r),
            "caught": r.id in caught,
            "fired_near": _fired_near(found, r, length),
        }
        for r in counted_meteors(truth, first)[0]
        if r.magnitude < 6
    ]


def _fired_near(found: Detections, record, length: int) -> bool:
    """Whether a detection of ``found`` lies within ``MATCH_PIXELS`` of a meteor's track while
    it is lit (a window ending at frame f holds frames f − length + 1 … f): a meteor lost
    though this holds was grouped into an event whose peak lies farther than that from its
    track, or nearer another meteor's."""
    frame = np.asarray(found.frame)
    when = (frame >= record.start_frame) & (frame - length + 1 <= record.end_frame)
    points = np.stack([np.asarray(found.row)[when], np.asarray(found.col)[when]], 1)
    return bool((distances_to_track(record, points.astype(float)) <= MATCH_PIXELS).any())


def _at_edge(r) -> bool:
    """Whether a meteor's track reaches the edge of the focal surface (``EDGE_PIXELS``)."""
    ends = (r.start_row, r.start_col, r.end_row, r.end_col)
    return min(min(ends), N_SIDE - 1 - max(ends)) <= EDGE_PIXELS


def _visibility_summary(rows: list[dict]) -> dict:
    """Per magnitude group: meteors, those visible (``VISIBLE_SIGMA``), caught, and caught
    among the visible, and the meteors and those caught whose tracks reach the edge of the
    focal surface (``EDGE_PIXELS``) or stay inside; and the visible ones caught, slow and fast
    (``SLOW_PX_PER_FRAME``)."""

    def counts(chosen: list[dict]) -> dict:
        visible = [r for r in chosen if r["pixel_sigma"] >= VISIBLE_SIGMA]
        return {
            "meteors": len(chosen),
            "visible": len(visible),
            "caught": sum(r["caught"] for r in chosen),
            "caught_visible": sum(r["caught"] for r in visible),
            "lost_fired_near": sum(r["fired_near"] and not r["caught"] for r in chosen),
            **{
                where: {
                    "meteors": len(part),
                    "caught": sum(r["caught"] for r in part),
                }
                for where, part in (
                    ("at_edge", [r for r in chosen if r["at_edge"]]),
                    ("inside", [r for r in chosen if not r["at_edge"]]),
                )
            },
        }

    visible = [r for r in rows if r["pixel_sigma"] >= VISIBLE_SIGMA]
    return {
        "pixel_sigma": VISIBLE_SIGMA,
        BRIGHT: counts([r for r in rows if r["magnitude"] < 5]),
        FAINT: counts([r for r in rows if r["magnitude"] >= 5]),
        "slow_px_per_frame": SLOW_PX_PER_FRAME,
        "visible_slow": counts([r for r in visible if r["speed"] < SLOW_PX_PER_FRAME]),
        "visible_fast": counts([r for r in visible if r["speed"] >= SLOW_PX_PER_FRAME]),
    }


def _print_visibility(v: dict, trigger: str) -> None:
    """``_visibility_summary``'s figures, caught by ``trigger``, as lines of text."""
    print(
        f"visible to a per-pixel trigger (best 5-frame pixel sum ≥ {VISIBLE_SIGMA:g} σ of "
        f"everything else there; caught by {trigger} among them):"
    )
    for name in (BRIGHT, FAINT):
        g = v[name]
        edge, inside = g["at_edge"], g["inside"]
        print(
            f"  {name}: {g['visible']} of {g['meteors']} visible, "
            f"{g['caught_visible']} of them caught; tracks reaching the edge (within "
            f"{EDGE_PIXELS:g} pixel) {edge['caught']} of {edge['meteors']} caught, inside "
            f"{inside['caught']} of {inside['meteors']}; lost though a detection lay within "
            f"{MATCH_PIXELS:g} pixels of the track while lit: {g['lost_fired_near']}"
        )
    for name, label in (("visible_slow", "slower"), ("visible_fast", "not slower")):
        g = v[name]
        print(
            f"  brighter than +6, visible, {label} than {SLOW_PX_PER_FRAME:g} pixel per "
            f"frame: {g['caught']} of {g['meteors']} caught"
        )


def _delays(found, truth, length: int, first: int, wait: int = 0) -> dict[int, int]:
    """Decision delay of each meteor that detections ``found`` catch (``first_detections``),
    the efficiencies count and that lights up from ``first`` on: D3 frames from its first lit
    frame to the end of the frame at which its first event is decided (``wait`` frames after
    the detection's frame: the track stack's ``latency``)."""
    start = {
        r.id: r.start_frame for r in counted_meteors(truth, first)[0] if r.start_frame >= first
    }
    fired = first_detections(found, truth, length)
    return {m: f + wait - start[m] for m, f in fired.items() if m in start}


def _earliest(*parts: dict[int, int]) -> dict[int, int]:
    """Each meteor's smallest delay over ``parts`` (triggers ORed)."""
    out: dict[int, int] = {}
    for part in parts:
        for m, d in part.items():
            out[m] = min(out.get(m, d), d)
    return out


def _fired_delays(parts: list, threshold: float, length: int, first: int) -> list[int]:
    """The decision delays of the meteors caught above ``threshold`` in each session's
    highest scores (``parts``: (``top_detections``, truth, frames) a session)."""
    out: list[int] = []
    for top, truth, _ in parts:
        out += _delays(above(top, threshold), truth, length, first).values()
    return out


def _delay_figures(delays: list[int]) -> dict:
    """The median and 90th percentile of decision delays, D3 frames and seconds, and how
    many meteors' first tied event fired before their first lit frame (an event begun by
    something else, a light the meteor passed, which the matching credits with it)."""
    if not delays:
        return {
            "meteors": 0,
            "fired_before_start": 0,
            **dict.fromkeys(("median_frames", "p90_frames", "median_s", "p90_s")),
        }
    median, p90 = float(np.median(delays)), float(np.percentile(delays, 90))
    return {
        "meteors": len(delays),
        "fired_before_start": sum(d < 0 for d in delays),
        "median_frames": median,
        "p90_frames": p90,
        "median_s": round(median * D3_S, 3),
        "p90_s": round(p90 * D3_S, 3),
    }


def _speed(cpu: dict, frames: int, delays: dict, stack_latency: int) -> dict:
    """Each trigger's software speed (frames of 48 × 48 pixels per CPU second, and that over
    the D3 frame rate) and decision delays (``_delay_figures``)."""
    return {
        "frames": frames,
        "cpu_seconds": {k: round(v, 2) for k, v in cpu.items()},
        "frames_per_cpu_second": {k: round(frames / max(v, 1e-9), 1) for k, v in cpu.items()},
        "times_real_time": {k: round(frames * D3_S / max(v, 1e-9), 1) for k, v in cpu.items()},
        "track_stack_wait_frames": stack_latency,
        "decision_delay": {k: _delay_figures(v) for k, v in delays.items()},
    }


def _print_speed(speed: dict) -> None:
    """``_speed``'s figures as lines of text."""
    rates = speed["frames_per_cpu_second"]
    print(
        "speed in software (frames per CPU second, times the D3 rate): "
        + ", ".join(f"{k} {rates[k]:,.0f} ({speed['times_real_time'][k]:,.0f}×)" for k in rates)
    )
    print(
        "decision delay, a meteor's first lit frame to its first event decided (median, 90th "
        f"percentile; the track stack decides {speed['track_stack_wait_frames']} frames after "
        "a track's end):"
    )
    for name, d in speed["decision_delay"].items():
        if d["meteors"]:
            print(
                f"  {name}: {d['median_frames']:g} and {d['p90_frames']:g} frames "
                f"({d['median_s']:.2f} and {d['p90_s']:.2f} s), {d['meteors']} meteors, "
                f"{d['fired_before_start']} of them tied to an event begun before they lit"
            )
        else:
            print(f"  {name}: no meteor caught")


def _stack_figures(point: dict) -> dict:
    """A track-stack setting's thresholds and its figures on the training sessions."""
    return {
        **{k: v for k, v in point.items() if k != "measured"},
        "training": {
            k: point["measured"][k]
            for k in ("false_events", "false_events_per_hour", "meteors", "meteors_caught")
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--export", type=Path, default=Path("runs/default/export"))
    parser.add_argument("--evaluation", type=Path, default=Path("runs/default/evaluation"))
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--frames", type=int, default=8192)
    parser.add_argument("--meteor-rate", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=1012, help="not the run's (0)")
    parser.add_argument(
        "--stack",
        choices=("integer", "float"),
        default="integer",
        help="the track stack measured: its integer twin (what a core computes) or the float",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    stored = stored_threshold(args.export)
    stack = (IntegerTrackStack if args.stack == "integer" else TrackStackTrigger)().validate()
    needed = ("peak_gate", "track_stack") if args.stack == "integer" else ("peak_gate",)
    if stored is None or any(k not in stored for k in needed):
        print(
            f"{args.export}: no stored operating threshold (or none for the peak gate or the "
            "track stack); run `uvhunt run` (or `uvhunt run --from export`)",
            file=sys.stderr,
        )
        return 2
    if args.stack == "integer" and stored["track_stack"]["trigger"] != stack.to_dict():
        print(
            f"{args.export}: its track stack thresholds were set for other settings "
            f"({stored['track_stack']['trigger']}) than the stack measured here "
            f"({stack.to_dict()}); run `uvhunt run --from export`",
            file=sys.stderr,
        )
        return 2
    golden, config = read_export(args.export)
    first = first_scored_frame(config.length)
    gate = PeakGateTrigger(config.length).validate()
    tuning, stack_tuning, gate_tuning = [], [], []
    for path in stored["sessions"]:
        movie = open_movie(Path(path))
        raw = movie_raw_counts(movie)
        tuning.append((conventional_top(raw, first), movie.events, movie.frames))
        if args.stack == "float":  # the integer stack's thresholds are stored in the export
            codes = gate.codes(raw, config.preprocessing)
            found, gated = stack_candidates(
                stack, raw, codes, excluded_pixels(movie), CANDIDATES, first
            )
            stack_tuning.append((found, movie.events, movie.frames))
            gate_tuning.append((gated, movie.events, movie.frames))
        print(f"training session {path}: scored", file=sys.stderr)
    target = stored["false_events_per_hour_target"]
    best, settings = tune_conventional(tuning, target, first)
    trigger = conventional_grid()[best]
    gate_threshold, gate_trained = stored["peak_gate"]["code"], stored["peak_gate"]["measured"]
    if args.stack == "float":
        stack_point = stack_operating_point(
            stack, stack_tuning, gate_tuning, target, config.length, first
        )
    else:
        stack_point = stored["track_stack"]
    core_score, core_code = core_thresholds(stored)  # the core's two bits, set together
    flight = flight_score(stored)  # the network's in the flight design, beside the stack's
    network, conventional, network_top, masked, gated, gate_top = [], [], [], [], [], []
    core_parts = []  # the core's two trigger bits together: m_trig or m_gate_trig
    stack_top, stack_alone, stack_or_gate = [], [], []  # the track stack trigger
    coincidence = stack_point.get("coincidence")  # None: an export from before it
    with_coincidence = []  # the stack, the gate or their coincidence
    flown = []  # every trigger bit of the flight design: the network's and the stack's three
    by_session = []  # the core's figures and each session's sky
    cpu = dict.fromkeys(SPEED, 0.0)  # CPU seconds of each trigger's scores, all sessions
    delays = {k: [] for k in DELAYED}  # each trigger's decision delays at its threshold
    visibility = []  # each meteor's visibility and whether the core caught it
    stack_visibility = []  # the same, caught by the track stack ORed with the gate
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        configs = session_configs(args.sessions, args.frames, args.meteor_rate, args.seed)
        for index, session in enumerate(configs):
            path = Path(tmp) / f"session_{index:02d}"
            simulator = SessionSimulator(session, session_seed(args.seed, index))
            write_session(simulator, path)
            seen = meteor_visibility(simulator)
            movie = open_movie(path)
            excluded = excluded_pixels(movie)
            clock = time.process_time()
            scores = score_all(movie, golden, config.preprocessing, config.length)
            cpu["network"] += time.process_time() - clock
            scores[:, excluded] = NO_WINDOW
            masked.append(int(excluded.sum()))
            events = events_at(
                scores, stored["score"], movie.events, config.length, golden.output_exponent, first
            )
            network.append(quality(outcome_of(events), movie.events, movie.frames, first))
            fired = detections(scores, stored["score"], first)
            delays["network"] += _delays(fired, movie.events, config.length, first).values()
            network_top.append(
                (top_detections(scores, CANDIDATES, first), movie.events, movie.frames)
            )
            raw = movie_raw_counts(movie)
            clock = time.process_time()
            z = trigger.significance(raw)
            cpu["conventional"] += time.process_time() - clock
            z[:, excluded] = np.nan
            conventional.append((top_detections(z, CANDIDATES, first), movie.events, movie.frames))
            clock = time.process_time()
            codes = gate.codes(raw, config.preprocessing)
            cpu["peak_gate"] += time.process_time() - clock
            codes[:, excluded] = NO_WINDOW
            gate_top.append((top_detections(codes, CANDIDATES, first), movie.events, movie.frames))
            gate_fired = detections(codes, gate_threshold, first)
            outcome = fast_outcome(gate_fired, movie.events, config.length)
            gated.append(quality(outcome, movie.events, movie.frames, first))
            delays["peak_gate"] += _delays(gate_fired, movie.events, config.length, first).values()
            both = either(
                detections(scores, core_score, first), detections(codes, core_code, first)
            )
            outcome = fast_outcome(both, movie.events, config.length)
            core_parts.append(quality(outcome, movie.events, movie.frames, first))
            delays["core"] += _delays(both, movie.events, config.length, first).values()
            visibility += _visibility_rows(
                movie.events, seen, both, outcome.caught, first, config.length
            )
            clock = time.process_time()
            z = stack.significance(raw, excluded)
            cpu["track_stack"] += time.process_time() - clock
            found = top_detections(z, CANDIDATES, first)
            stack_top.append((found, movie.events, movie.frames))
            alone = above(found, stack_point["alone"]["threshold"])
            outcome = fast_outcome(alone, movie.events, config.length)
            stack_alone.append(quality(outcome, movie.events, movie.frames, first))
            shared = stack_point["with_gate"]
            tracks = above(found, shared["threshold"])
            gate_part = detections(codes, shared["gate_code"], first)
            tracks_or_gate = either(tracks, gate_part)
            outcome = fast_outcome(tracks_or_gate, movie.events, config.length)
            stack_or_gate.append(quality(outcome, movie.events, movie.frames, first))
            if coincidence is not None:
                meeting = coincident(
                    above(found, coincidence["threshold"]),
                    detections(codes, coincidence["gate_code"], first),
                )
                stack_bits = either(tracks_or_gate, meeting)
                # in the flight design the core's gate bit takes the stack's gate code
                network_bit = detections(scores, flight, first)
                every = fast_outcome(either(network_bit, stack_bits), movie.events, config.length)
                flown.append(quality(every, movie.events, movie.frames, first))
                outcome = fast_outcome(stack_bits, movie.events, config.length)
                with_coincidence.append(quality(outcome, movie.events, movie.frames, first))
            delays["track_stack_or_gate"] += _earliest(
                _delays(tracks, movie.events, config.length, first, stack.latency),
                _delays(gate_part, movie.events, config.length, first),
            ).values()
            stack_visibility += _visibility_rows(
                movie.events, seen, tracks_or_gate, outcome.caught, first, config.length
            )
            by_session.append(_session_row(index, path, raw, core_parts[-1]))
            print(
                f"session {index}: {network[-1]['false_events']} false events, "
                f"{network[-1]['meteors_caught']} of {network[-1]['meteors']} meteors",
                file=sys.stderr,
            )
    net = combined(network)
    sigma, conv = threshold_for_false_rate(
        conventional, net["false_events_per_hour"], trigger.frames, first
    )
    curve = []
    delays["conventional"] = _fired_delays(conventional, sigma, trigger.frames, first)
    for rate in CURVE_RATES:
        level, at = threshold_for_false_rate(network_top, rate, config.length, first)
        c_sigma, c = threshold_for_false_rate(conventional, rate, trigger.frames, first)
        if rate == max(CURVE_RATES):  # the highest rate: the conventional trigger catches some
            delays["network_at_most_rate"] = _fired_delays(network_top, level, config.length, first)
            delays["conventional_at_most_rate"] = _fired_delays(
                conventional, c_sigma, trigger.frames, first
            )
        _, g = threshold_for_false_rate(gate_top, rate, config.length, first)
        _, st = threshold_for_false_rate(stack_top, rate, config.length, first)
        share = rate * stack_point["with_gate"]["gate_share"] / target
        _, _, sg = stack_beside_gate(
            stack_top, gate_top, share, rate, config.length, first, confidence=None
        )
        curve.append(
            {
                "false_events_per_hour": rate,
                "network": {k: at[k] for k in ("false_events_per_hour", "meteors_caught")},
                "conventional": {k: c[k] for k in ("false_events_per_hour", "meteors_caught")},
                "peak_gate": {k: g[k] for k in ("false_events_per_hour", "meteors_caught")},
                "track_stack": {k: st[k] for k in ("false_events_per_hour", "meteors_caught")},
                "track_stack_or_gate": {
                    **{k: sg[k] for k in ("false_events_per_hour", "meteors_caught")},
                    "by_group": group_counts(sg["by_magnitude"]),
                },
                "meteors": at["meteors"],
            }
        )
    core = combined(core_parts)  # what the core flies: either bit

    result = {
        "seconds": round(time.perf_counter() - start, 1),
        "sessions": args.sessions,
        "frames": args.frames,
        "meteor_rate": args.meteor_rate,
        "seed": args.seed,
        "masked_pixels": masked,
        "threshold": {k: stored[k] for k in ("score", "logit", "false_events_per_hour_target")},
        "network": net,
        "conventional": {
            "trigger": trigger.to_dict(),
            "tuning": settings,
            "threshold_sigma": sigma,
            **conv,
        },
        "peak_gate": {
            "trigger": gate.to_dict(),
            "threshold_code": int(gate_threshold),
            "threshold_z": float(gate.z(gate_threshold, gate.fraction_bits)),
            "training": {
                k: gate_trained[k] for k in ("false_events_per_hour", "meteors", "meteors_caught")
            },
            **combined(gated),
        },
        "network_or_gate": {"score": core_score, "gate_code": core_code, **core},
        "network_or_gate_by_session": by_session,
        "network_or_gate_visibility": _visibility_summary(visibility),
        "track_stack": {
            "kind": args.stack,
            "trigger": stack.to_dict(),
            "z_per_sigma": float(stack.threshold_from_sigma(1.0)),
            "latency_frames": stack.latency,
            "confidence": stack_point["confidence"],
            "thresholds": "stored in the export" if args.stack == "integer" else "set here",
            "alone": {**_stack_figures(stack_point["alone"]), **combined(stack_alone)},
            "with_gate": {**_stack_figures(stack_point["with_gate"]), **combined(stack_or_gate)},
            "with_gate_visibility": _visibility_summary(stack_visibility),
            "with_coincidence": None
            if coincidence is None
            else {**_stack_figures(coincidence), **combined(with_coincidence)},
        },
        "flight": None if coincidence is None else {"score": flight, **combined(flown)},
        "curve": curve,
        "speed": _speed(cpu, args.sessions * args.frames, delays, stack.latency),
        "brighter_than_5": _caught_fraction(net, BRIGHT),
        "between_5_and_6": _caught_fraction(net, FAINT),
        "core_brighter_than_5": _caught_fraction(core, BRIGHT),
        "core_between_5_and_6": _caught_fraction(core, FAINT),
    }
    floors = {  # on the core's trigger as it flies (either bit), and on the network alone
        **_floors("core", core),
        **_floors("network", net),
        "more meteors than the conventional trigger": net["meteors_caught"]
        > conv["meteors_caught"],
        **_floors("track stack or gate", result["track_stack"]["with_gate"]),
    }
    if result["track_stack"]["with_coincidence"] is not None:
        floors.update(
            _floors("track stack, gate or coincidence", result["track_stack"]["with_coincidence"])
        )
    if result["flight"] is not None:  # what the flight design raises: all its bits ORed
        floors.update(_floors("flight design, every bit", result["flight"]))
    summary = args.evaluation / "summary.json"
    if summary.is_file():
        e = json.loads(summary.read_text())
        result["window_auc"] = {
            "qat_mlp": e["mean_auc"]["qat_mlp"],
            "best_baseline": e["best_baseline"],
        }
        floors["QAT window AUC >= best baseline"] = (
            e["mean_auc"]["qat_mlp"] >= e["best_baseline"]["mean_auc"]
        )
    result["floors"] = floors
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for name, q in (
            ("network", net),
            ("conventional", conv),
            ("peak gate", result["peak_gate"]),
            ("network or peak gate (the core's two bits)", result["network_or_gate"]),
        ):
            print(f"{name}: {quality_sentence(q)}")
        print(
            f"stored threshold: score > {stored['score']} (logit {stored['logit']:.2f}); "
            f"conventional at z > {sigma:.1f} σ; peak gate at code > {int(gate_threshold)} "
            f"(z > {float(gate.z(gate_threshold, gate.fraction_bits)):.3f}) "
            f"(set on the training sessions); in the core, set together: score > "
            f"{core_score}, code > {core_code}; {result['seconds']} s"
        )
        print("the core's two bits, session by session (caught / meteors):")
        for row in by_session:
            b5, f56 = row["brighter_than_5"], row["between_5_and_6"]
            print(
                f"  session {row['session']}: background {row['background_median']:,.0f} "
                f"counts a frame (moonlight {row['moonlight_per_gtu']:.2f} per GTU, clouds "
                f"{row['cloud_cover']:.0%}): false events {row['false_events']}, brighter "
                f"than +5 {b5[0]}/{b5[1]}, +5…+6 {f56[0]}/{f56[1]}"
            )
        _print_visibility(result["network_or_gate_visibility"], "the core's two bits")
        for point in curve:
            print(
                f"at most {point['false_events_per_hour']:g} false events per hour: network "
                f"{point['network']['meteors_caught']}, conventional "
                f"{point['conventional']['meteors_caught']}, peak gate "
                f"{point['peak_gate']['meteors_caught']} of {point['meteors']} meteors"
            )
        ts = result["track_stack"]
        per = ts["z_per_sigma"]
        print(
            f"track stack ({ts['kind']}; thresholds {ts['thresholds']}, set on the training "
            f"sessions for the rate at {ts['confidence']:.0%} confidence): alone at Z > "
            f"{ts['alone']['threshold']:g} "
            f"({ts['alone']['threshold'] / per:.2f} σ): {quality_sentence(ts['alone'])}; ORed "
            f"with the peak gate (code > {ts['with_gate']['gate_code']}, Z > "
            f"{ts['with_gate']['threshold']:g} ({ts['with_gate']['threshold'] / per:.2f} σ)): "
            f"{quality_sentence(ts['with_gate'])}"
        )
        _print_visibility(ts["with_gate_visibility"], "the track stack ORed with the gate")
        met = ts["with_coincidence"]
        if met is not None:
            print(f"  or their coincidence ({describe(met)}): {quality_sentence(met)}")
            print(
                f"the flight design, every bit ORed (the network's at score > {flight} and "
                "these three): " + quality_sentence(result["flight"])
            )
        for point in curve:
            print(
                f"  at most {point['false_events_per_hour']:g} false events per hour: track "
                f"stack {point['track_stack']['meteors_caught']}, ORed with the peak gate "
                f"{point['track_stack_or_gate']['meteors_caught']} of {point['meteors']} meteors"
            )
        _print_speed(result["speed"])
        for name, ok in floors.items():
            print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    return 0 if all(floors.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
