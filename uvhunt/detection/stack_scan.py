"""The track stack trigger ORed with the peak gate over a whole movie, at the export's stored
thresholds (``operating_threshold.track_stack.with_gate``, set by ``stack_operating_point``):
what ``hls/stack_trigger.py`` (Z) and the trigger core's gate bit (the code) fire on; and,
where the export stores one, the stack–gate coincidence beside them (``stack_coincidence``, in
hardware ``hls/stack_coincidence.py``). A pixel-frame fires when its Z is above the stack's
threshold or its peak-gate code above the gate code (or the coincidence holds there); the
pixel-frames fired are grouped into events by the network's rule (``events.group``), each
event's peak its first pixel-frame (the bits share no score: the same peak as the benchmark's
and the threshold search's, ``event_quality.fast_outcome``).

The movie is read ``CHUNK_FRAMES`` at a time, each chunk with the ``reach`` frames on either
side that its Z and codes read, so that an hour of data needs the memory of a chunk, and its Z
and codes equal the whole movie's at once.
"""

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from uvhunt._core.errors import UvhuntError
from uvhunt.detection.event_quality import detections, either
from uvhunt.detection.events import Detections, joined
from uvhunt.detection.peak_gate import PeakGateTrigger
from uvhunt.detection.scoring import NO_WINDOW
from uvhunt.detection.stack_coincidence import coincident
from uvhunt.detection.track_stack_integer import IntegerTrackStack
from uvhunt.euso.readers import Movie
from uvhunt.quant.preprocess import Preprocessing, movie_raw_counts

CHUNK_FRAMES = 4096
"""Frames whose pixel-frames are found at once (with ``reach`` more on either side)."""
FIX = "export again with this version: `uvhunt run --from export`"
"""What to do about an export whose stack thresholds are missing or unreadable."""


def stored_stack(
    operating: dict | None, export: Path
) -> tuple[IntegerTrackStack, dict, dict | None]:
    """The integer track stack, its thresholds beside the gate (``with_gate``: threshold,
    gate_code, ...) and the stack–gate coincidence's (``stored_coincidence``) stored in an
    export's operating point; a UvhuntError naming the export and the fix when it has none."""
    point = None if operating is None else operating.get("track_stack")
    if point is None:
        raise UvhuntError(
            "the export has no stored track stack thresholds (manifest.json: "
            "operating_threshold.track_stack)",
            path=export,
            fix=FIX,
        )
    try:
        stack = IntegerTrackStack.from_dict(point["trigger"]).validate()
        with_gate = point["with_gate"]
        for key in ("threshold", "gate_code"):
            if not isinstance(with_gate[key], int):
                raise TypeError(f"with_gate.{key} is {with_gate[key]!r}, not an integer")
    except (KeyError, TypeError, ValueError) as error:
        raise UvhuntError(
            f"the export's track stack thresholds are unreadable (manifest.json: "
            f"operating_threshold.track_stack: {error!r})",
            path=export,
            fix=FIX,
        ) from error
    return stack, with_gate, stored_coincidence(operating, export)


def stored_coincidence(operating: dict | None, export: Path) -> dict | None:
    """The stack–gate coincidence's thresholds stored in an export's operating point
    (``track_stack.coincidence``: threshold, gate_code), or None for an export written before
    it (the stack and the gate then fly without it); a UvhuntError naming the export and the
    fix when they are unreadable."""
    point = (operating or {}).get("track_stack", {}).get("coincidence")
    if point is None:
        return None
    if not all(isinstance(point.get(key), int) for key in ("threshold", "gate_code")):
        raise UvhuntError(
            "the export's stack–gate coincidence thresholds are not integers (manifest.json: "
            f"operating_threshold.track_stack.coincidence: {point!r})",
            path=export,
            fix=FIX,
        )
    return point


def reach(stack: IntegerTrackStack, gate: PeakGateTrigger) -> int:
    """Frames on either side of a frame that its Z or its gate code reads, at most: Z at frame
    t reads x from t − (K − 1) − D to t + D, each x its spread's H frames either side, each of
    those bumps its baseline's G + W (``margin``); a code, the window's L − 1 frames before."""
    return max(stack.frames - 1 + stack.recurrence + stack.spread + stack.margin, gate.length - 1)


def chunk_scores(
    movie: Movie,
    stack: IntegerTrackStack,
    gate: PeakGateTrigger,
    preprocessing: Preprocessing,
    excluded: np.ndarray,
    chunk_frames: int | None = None,
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(first frame, Z, codes) of each chunk of ``chunk_frames`` frames (``CHUNK_FRAMES``) of
    ``movie``: the stack's Z (2^−F σ) and the gate's codes on ``preprocessing`` (the
    network's) there, equal to the whole movie's; the ``excluded`` pixels (48, 48) add
    nothing to any track, and their codes are ``NO_WINDOW``."""
    chunk_frames = chunk_frames or CHUNK_FRAMES
    margin, frames = reach(stack, gate), movie.frames
    for start in range(0, frames, chunk_frames):
        stop = min(start + chunk_frames, frames)
        low, high = max(start - margin, 0), min(stop + margin, frames)
        raw = movie_raw_counts(movie, low, high)
        inner = slice(start - low, stop - low)
        codes = gate.codes(raw, preprocessing)[inner]
        codes[:, excluded] = NO_WINDOW
        yield start, stack.significance(raw, excluded)[inner], codes


def stack_or_gate(
    movie: Movie,
    stack: IntegerTrackStack,
    gate: PeakGateTrigger,
    preprocessing: Preprocessing,
    with_gate: dict,
    excluded: np.ndarray,
    first_frame: int,
    on_frames: Callable[[int], None] | None = None,
    chunk_frames: int | None = None,
    coincidence: dict | None = None,
) -> Detections:
    """The pixel-frames of ``movie`` where Z > ``with_gate['threshold']`` (the stack, 2^−F σ)
    or the code > ``with_gate['gate_code']`` (the gate on ``preprocessing``, the network's),
    or, with a ``coincidence`` (``stored_coincidence``), Z > its threshold with a code above
    its code nearby (``stack_coincidence``); from ``first_frame`` on, the ``excluded`` pixels
    (48, 48) never: in frame order, score 1 (``either``), read in chunks (``chunk_scores``).
    ``on_frames`` is told the frames done."""
    threshold, code = with_gate["threshold"], with_gate["gate_code"]
    found, tracks, codes_near = [], [], []
    chunks = chunk_scores(movie, stack, gate, preprocessing, excluded, chunk_frames)
    for start, z, codes in chunks:
        begin = max(first_frame - start, 0)
        fired = either(detections(z, threshold, begin), detections(codes, code, begin))
        found.append((start, fired))
        if coincidence is not None:
            tracks.append((start, detections(z, coincidence["threshold"], begin)))
            codes_near.append((start, detections(codes, coincidence["gate_code"], begin)))
        if on_frames is not None:
            on_frames(len(z))
    fired = joined(found)
    if coincidence is None:
        return fired
    return either(fired, coincident(joined(tracks), joined(codes_near)))
