"""A movie scanned as the firmware would: every pixel and frame scored with the integer golden
model (the firmware's exact arithmetic), a trigger threshold (fixed, or for a stated fraction
of windows above it), triggered windows grouped into events, and the per-pixel score maps
saved. Pixels of a mask (known dead and hot pixels) keep their scores in the score maps but
never trigger: they give no detections and their windows are left out of the threshold's
fraction."""

import csv
import dataclasses
import json
import math
import time
from pathlib import Path

import numpy as np

from uvhunt._core.atomic import atomic_dir, check_output, write_json
from uvhunt._core.errors import UvhuntError
from uvhunt._core.progress import ProgressFactory, no_progress
from uvhunt.detection.conventional import ConventionalTrigger
from uvhunt.detection.event_quality import (
    detections,
    outcome_of,
    quality,
    threshold_for_false_rate,
    top_detections,
)
from uvhunt.detection.events import Detections, group, joined, match_truth
from uvhunt.detection.operating_point import stored_threshold
from uvhunt.detection.peak_gate import PeakGateTrigger
from uvhunt.detection.plots import plot_event
from uvhunt.detection.scoring import NO_WINDOW, score_movie
from uvhunt.detection.scoring import WORKERS as SCORING_THREADS
from uvhunt.detection.stack_operating_point import MASK_FRAMES, excluded_pixels
from uvhunt.detection.stack_scan import stack_or_gate, stored_stack
from uvhunt.detection.track_stack_integer import IntegerTrackStack
from uvhunt.euso.npy_writer import GrowingNpy
from uvhunt.euso.pixel_mask import PixelMask, no_mask, write_mask
from uvhunt.euso.readers import open_movie, row_reader
from uvhunt.quant.golden import read_export
from uvhunt.quant.metrics import threshold_for_rate
from uvhunt.quant.preprocess import movie_raw_counts

DEFAULT_FPR = 1e-4
"""Fraction of windows allowed above the threshold: about 20,000 windows in an hour of D3
data (202 million windows). Measured on the default run's session 0 (4,096 frames): 1e-5
found none of its 85 simulated meteors, 1e-4 found 5, 1e-3 found 36 among 2,112 events."""
CONVENTIONAL_CANDIDATES = 200_000
"""The conventional trigger's highest pixel-frames among which its threshold is sought."""
SCAN_FRAMES = 2048
"""Frames of the score map read at once when collecting detections."""


def scan_movie(
    movie_path: Path,
    export: Path,
    out: Path,
    fpr: float | None = None,
    threshold: float | None = None,
    units: str | None = None,
    pictures: int = 20,
    progress: ProgressFactory | None = None,
    conventional: ConventionalTrigger | None = None,
    mask: PixelMask | None = None,
    threads: int = SCORING_THREADS,
    stack: bool = False,
) -> dict:
    """Scan ``movie_path`` into the folder ``out`` (replaced) at the export's stored operating
    threshold, or ``threshold`` (a fixed logit), or the score exceeded by a fraction ``fpr``
    of the windows (an export without a stored threshold: ``DEFAULT_FPR``). Progress in
    frames. With truth in the movie: false events per hour and meteors caught by magnitude,
    and with ``conventional``, that trigger's figures at the same false-event rate. With
    ``stack``, the track stack trigger ORed with the peak gate at the export's stored
    thresholds too (``stack_scan``): its events and figures. The pixels of ``mask`` never
    trigger (in any trigger); their scores are still written. ``threads`` score each
    block's pixels."""
    check_output(out, [movie_path, export])
    stored = stored_threshold(Path(export))
    flown_stack = stored_stack(stored, Path(export)) if stack else None
    if threshold is not None:
        source = "fixed logit (--threshold), not the stored operating threshold"
    elif fpr is not None:
        source = f"fraction {fpr:g} of the windows (--fpr), not the stored operating threshold"
    elif stored is not None:
        held = f" at {stored['confidence']:.0%} confidence" if "confidence" in stored else ""
        source = (
            f"the export's operating threshold (at most "
            f"{stored['false_events_per_hour_target']:g} false events per hour{held} on "
            f"{len(stored['sessions'])} training sessions)"
        )
    else:
        fpr = DEFAULT_FPR
        source = f"fraction {fpr:g} of the windows: the export has no stored threshold"
    if threshold is None and not (fpr is None or 0 < fpr < 1):
        raise UvhuntError(
            f"the fraction of windows above the threshold must be in (0, 1) (got {fpr})",
            fix="for example 1e-5",
            setting="fpr",
        )
    golden, config = read_export(Path(export))
    movie = open_movie(Path(movie_path), units)
    if movie.frames < config.length:
        raise UvhuntError(
            f"the movie has {movie.frames} frames, fewer than one window ({config.length})",
            path=movie_path,
            fix="scanning needs at least one full window per pixel",
        )
    excluded = (mask or no_mask()).excluded
    bound = golden.accumulator_bounds()[-1]
    start = time.perf_counter()
    with atomic_dir(out) as tmp:
        histogram = np.zeros(2 * bound + 1, np.int64)
        writer = GrowingNpy(tmp / "scores.npy", np.int32, (48, 48))
        try:
            with (progress or no_progress)(movie.frames, "detect", "frame") as bar:
                blocks = score_movie(
                    movie, golden, config.preprocessing, config.length, bar.update, threads
                )
                for block in blocks:
                    writer.append(block.scores)
                    live = block.scores[:, ~excluded]
                    valid = live[live != NO_WINDOW]
                    histogram += np.bincount(valid + bound, minlength=histogram.size)
        finally:
            writer.close()
        scored = time.perf_counter() - start
        if threshold is not None:
            level = _integer_threshold(threshold, golden.output_exponent)
        elif fpr is not None:
            level = int(threshold_for_rate(np.arange(-bound, bound + 1), histogram, fpr))
        else:
            level = int(stored["score"])
        windows = int(histogram.sum())
        passing = int(histogram[level + bound + 1 :].sum())
        found = _collect(tmp / "scores.npy", level, excluded)
        events = group(found, golden.output_exponent, config.length)
        if movie.events is not None:
            events = match_truth(events, movie.events, config.length)
        _write_events(tmp, "events", [e.to_dict() for e in events])
        (tmp / "events").mkdir()
        for event in events[:pictures]:
            plot_event(movie, event, config.length, tmp / "events" / f"event_{event.id:04d}.png")
        meta = {
            "movie": str(movie_path),
            "frames": movie.frames,
            "units": movie.units,
            "export": str(export),
            "model": config.to_dict(),
            "scores": {
                "file": "scores.npy",
                "shape": [movie.frames, 48, 48],
                "dtype": "int32",
                "meaning": "scores[t, r, c]: the golden model's output accumulator for pixel "
                "(r, c)'s window of frames [t - length + 1, t]; logit = score × 2**exponent",
                "exponent": golden.output_exponent,
                "no_window": int(NO_WINDOW),
            },
            "threshold": {
                "score": level,
                "logit": math.ldexp(level, golden.output_exponent),
                "source": source,
                "fpr_requested": None if threshold is not None else fpr,
                "windows": windows,
                "windows_above": passing,
                "fraction_above": passing / max(windows, 1),
                "rule": "a window triggers when its score is above the threshold",
            },
            "events": len(events),
            "truth": _truth_summary(movie, events, config.length),
            "conventional": None
            if conventional is None or movie.events is None
            else _conventional(movie, events, config.length, conventional, excluded),
            "mask": None if mask is None else {**mask.describe(), "file": "mask.npy"},
            "stack": None
            if flown_stack is None
            else _stack(movie, config, *flown_stack, mask, tmp, progress or no_progress),
            "seconds": {
                "scoring": round(scored, 1),
                "total": round(time.perf_counter() - start, 1),
            },
        }
        if mask is not None:
            write_mask(tmp / "mask.npy", mask.excluded)
        write_json(tmp / "detect.json", meta)
    return {"out": str(out), **meta, "top_events": [e.to_dict() for e in events[:10]]}


def _integer_threshold(logit: float, exponent: int) -> int:
    if not math.isfinite(logit):
        raise UvhuntError(
            f"the threshold must be a finite logit (got {logit})",
            fix="give a logit",
            setting="threshold",
        )
    return math.floor(math.ldexp(logit, -exponent))


def _collect(scores_path: Path, level: int, excluded: np.ndarray) -> Detections:
    """The pixel-frames above ``level``, masked pixels left out."""
    scores = np.load(scores_path, mmap_mode="r")
    read = row_reader(scores)
    parts = [
        (f0, detections(np.where(excluded, NO_WINDOW, read(f0, f0 + SCAN_FRAMES)), level))
        for f0 in range(0, len(scores), SCAN_FRAMES)
    ]
    found = joined(parts)
    return dataclasses.replace(found, score=found.score.astype(np.int64))


def _write_events(folder: Path, name: str, rows: list[dict]) -> None:
    """``rows`` (one dict per event) as ``name``.json and ``name``.csv in ``folder``."""
    (folder / f"{name}.json").write_text(json.dumps(rows, indent=1))
    fields = list(rows[0]) if rows else ["id"]
    with open(folder / f"{name}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def _conventional(
    movie, events, length: int, trigger: ConventionalTrigger, excluded: np.ndarray
) -> dict:
    """The conventional trigger on the same movie at the network's false-event rate, both
    counted from the first frame where both have a score; masked pixels never trigger."""
    first = max(length, trigger.history) - 1
    late = [e for e in events if e.last_frame >= first]
    network = quality(outcome_of(late), movie.events, movie.frames, first)
    z = trigger.significance(movie_raw_counts(movie))
    z[:, excluded] = -np.inf
    threshold, figures = threshold_for_false_rate(
        [(top_detections(z, CONVENTIONAL_CANDIDATES, first), movie.events, movie.frames)],
        network["false_events_per_hour"],
        trigger.frames,
        first,
    )
    return {
        "trigger": trigger.to_dict(),
        "first_frame": first,
        "threshold_sigma": threshold,
        "network": network,
        "conventional": figures,
    }


def _stack(
    movie,
    config,
    track_stack: IntegerTrackStack,
    with_gate: dict,
    coincidence: dict | None,
    mask: PixelMask | None,
    folder: Path,
    progress: ProgressFactory,
) -> dict:
    """The track stack trigger ORed with the peak gate (and the stack–gate ``coincidence``,
    where the export stores one) at its stored thresholds: its events
    (``stack_events.csv`` and ``.json`` in ``folder``: the network's columns but the peak
    logit, in time order) and, with truth, its figures from the network's first frame. Without
    a ``mask``, the dead and hot pixels found in the movie's first frames are excluded, as on
    the sessions its thresholds were set on."""
    first = config.length - 1
    if mask is None:
        excluded = excluded_pixels(movie)
        source = (
            f"the dead and hot pixels found in the movie's first {MASK_FRAMES} frames, as on "
            "the sessions its thresholds were set on"
        )
    else:
        excluded, source = mask.excluded, f"the scan's mask ({mask.source})"
    with progress(movie.frames, "stack", "frame") as bar:
        fired = stack_or_gate(
            movie,
            track_stack,
            PeakGateTrigger(config.length),
            config.preprocessing,
            with_gate,
            excluded,
            first,
            bar.update,
            coincidence=coincidence,
        )
    events = sorted(group(fired, 0, config.length), key=lambda e: (e.first_frame, e.id))
    events = [dataclasses.replace(e, id=i + 1) for i, e in enumerate(events)]
    if movie.events is not None:
        events = match_truth(events, movie.events, config.length)
    rows = [{k: v for k, v in e.to_dict().items() if k != "peak_logit"} for e in events]
    _write_events(folder, "stack_events", rows)
    return {
        "trigger": track_stack.to_dict(),
        "threshold": with_gate["threshold"],
        "gate_code": with_gate["gate_code"],
        "coincidence": None
        if coincidence is None
        else {k: coincidence[k] for k in ("threshold", "gate_code", "frames", "pixels")},
        "rule": "a pixel-frame fires when the track stack's Z is above the threshold or its "
        "peak-gate code above the gate code (the export's stored thresholds, "
        "operating_threshold.track_stack.with_gate), or, with a coincidence, when its Z is "
        "above the coincidence's threshold and a code above the coincidence's code lies "
        "within its frames and pixels (operating_threshold.track_stack.coincidence)",
        "excluded_pixels": int(excluded.sum()),
        "mask": source,
        "first_frame": first,
        "events": len(events),
        "quality": None
        if movie.events is None
        else quality(outcome_of(events), movie.events, movie.frames, first),
        "files": ["stack_events.csv", "stack_events.json"],
    }


def _truth_summary(movie, events, length: int) -> dict | None:
    if movie.events is None:
        return None
    meteors = {e.id for e in movie.events if e.kind == "meteor"}
    found = {e.truth_id for e in events if e.truth_kind == "meteor"}
    kinds: dict[str, int] = {}
    for e in events:
        kinds[e.truth_kind or "none"] = kinds.get(e.truth_kind or "none", 0) + 1
    return {
        "meteors": len(meteors),
        "meteors_detected": len(found & meteors),
        "events_by_truth_kind": kinds,
        "quality": quality(outcome_of(events), movie.events, movie.frames, length - 1),
    }
