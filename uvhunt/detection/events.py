"""Triggered windows grouped into events: pixels and frames, start, end, direction, speed;
matched to the simulation's truth where the movie has one.

A detection is one pixel's window whose score passed the threshold, dated by its last frame
(when the trigger could fire). Two detections belong to the same event when they are at most
``gap_frames`` frames and ``gap_pixels`` pixels apart (in each of row and column), and
chains of such pairs make one event.
"""

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from uvhunt.euso.events import EventRecord
from uvhunt.euso.timing import D3_S


@dataclass(frozen=True)
class Detections:
    frame: np.ndarray
    """Last frame of each triggered window (int64)."""
    row: np.ndarray
    col: np.ndarray
    score: np.ndarray
    """Integer score (the golden model's accumulator)."""

    def __len__(self) -> int:
        return len(self.frame)


@dataclass(frozen=True)
class TriggerEvent:
    id: int
    first_frame: int
    """First frame whose window triggered."""
    last_frame: int
    start_frame: int
    """First frame of the earliest triggered window (``first_frame - length + 1``)."""
    pixels: int
    windows: int
    peak_logit: float
    peak_frame: int
    peak_row: int
    peak_col: int
    row: float
    """Score-weighted mean pixel row."""
    col: float
    direction_deg: float
    """Direction of motion, degrees from the +column axis towards +row (NaN when still)."""
    speed_px_per_frame: float
    """Apparent speed, pixel pitches per D3 frame, from a line through each pixel's peak."""
    speed_px_per_s: float
    duration_s: float
    """From the first to the last triggering frame, plus one frame."""
    truth_kind: str = ""
    """Kind of the simulated event it overlaps (movies with truth), else empty."""
    truth_id: int = -1

    def to_dict(self) -> dict:
        return asdict(self)


def joined(parts: list[tuple[int, Detections]]) -> Detections:
    """The detections of consecutive blocks of a movie in one: each part is (the block's first
    frame, its detections with frames counted from there)."""
    return Detections(
        np.concatenate([found.frame + start for start, found in parts]),
        np.concatenate([found.row for _, found in parts]),
        np.concatenate([found.col for _, found in parts]),
        np.concatenate([found.score for _, found in parts]),
    )


def group(
    found: Detections, exponent: int, length: int, gap_frames: int = 4, gap_pixels: int = 2
) -> list[TriggerEvent]:
    """Events from detections, brightest first."""
    if not len(found):
        return []
    labels = event_labels(found, gap_frames, gap_pixels)
    events = [_describe(found, labels == k, exponent, length) for k in np.unique(labels)]
    events.sort(key=lambda e: -e.peak_logit)
    return [TriggerEvent(**{**e.to_dict(), "id": i + 1}) for i, e in enumerate(events)]


def event_labels(found: Detections, gap_frames: int = 4, gap_pixels: int = 2) -> np.ndarray:
    """The event (0, 1, ...) of each detection: the grouping rule of the module docstring."""
    points = np.stack(
        [found.frame / gap_frames, found.row / gap_pixels, found.col / gap_pixels], axis=1
    )
    pairs = cKDTree(points).query_pairs(1.0, p=np.inf, output_type="ndarray")
    n = len(found)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _describe(found: Detections, mine: np.ndarray, exponent: int, length: int) -> TriggerEvent:
    frame, row, col, score = (a[mine] for a in (found.frame, found.row, found.col, found.score))
    peak = int(np.argmax(score))
    weight = score - score.min() + 1.0
    pixel = row * 64 + col
    peaks_t, peaks_r, peaks_c = [], [], []
    for p in np.unique(pixel):  # each pixel's brightest window dates its crossing
        at = np.flatnonzero(pixel == p)
        best = at[np.argmax(score[at])]
        peaks_t.append(frame[best])
        peaks_r.append(row[best])
        peaks_c.append(col[best])
    direction, speed = _motion(np.array(peaks_t), np.array(peaks_r), np.array(peaks_c))
    first, last = int(frame.min()), int(frame.max())
    return TriggerEvent(
        id=0,
        first_frame=first,
        last_frame=last,
        start_frame=first - length + 1,
        pixels=int(len(np.unique(pixel))),
        windows=int(mine.sum()),
        peak_logit=float(np.ldexp(float(score[peak]), exponent)),
        peak_frame=int(frame[peak]),
        peak_row=int(row[peak]),
        peak_col=int(col[peak]),
        row=float(np.average(row, weights=weight)),
        col=float(np.average(col, weights=weight)),
        direction_deg=direction,
        speed_px_per_frame=speed,
        speed_px_per_s=speed / D3_S,
        duration_s=(last - first + 1) * D3_S,
    )


def _motion(t: np.ndarray, r: np.ndarray, c: np.ndarray) -> tuple[float, float]:
    """Direction (deg) and speed (px/frame) of a least-squares line r(t), c(t)."""
    if len(t) < 2 or np.ptp(t) == 0:
        return float("nan"), float("nan")
    vr = np.polyfit(t, r, 1)[0]
    vc = np.polyfit(t, c, 1)[0]
    return float(np.degrees(np.arctan2(vr, vc)) % 360), float(np.hypot(vr, vc))


MATCH_PIXELS = 2.5
"""Largest distance, pixels, from an event's peak pixel to a simulated track it is tied to."""


def match_truth(
    events: list[TriggerEvent],
    truth: list[EventRecord],
    length: int,
    pixels: float = MATCH_PIXELS,
) -> list[TriggerEvent]:
    """Each event with the simulated event it overlaps in time whose track passes within
    ``pixels`` of the event's peak pixel, if any: a meteor before any other kind, then the
    track nearest the peak pixel (the event's likeliest cause where two meteors cross; ties:
    the first in ``truth``)."""
    matched = []
    for event in events:
        best, best_rank = None, (True, math.inf)
        for record in truth:
            if record.end_frame < event.start_frame or record.start_frame > event.last_frame:
                continue
            distance = distance_to_track(record, event.peak_row, event.peak_col)
            rank = (record.kind != "meteor", distance)  # meteors first, then the nearest
            if distance <= pixels and rank < best_rank:
                best, best_rank = record, rank
        matched.append(
            event
            if best is None
            else TriggerEvent(**{**event.to_dict(), "truth_kind": best.kind, "truth_id": best.id})
        )
    return matched


def distance_to_track(record: EventRecord, row: float, col: float) -> float:
    """Pixels from (row, col) to the segment from the record's start to its end position."""
    return float(distances_to_track(record, np.array([[row, col]], float))[0])


def distances_to_track(record: EventRecord, points: np.ndarray) -> np.ndarray:
    """Pixels from each (row, col) of ``points`` (n, 2) to the record's track segment."""
    a = np.array([record.start_row, record.start_col])
    span = np.array([record.end_row, record.end_col]) - a
    if not span.any():
        return np.linalg.norm(points - a, axis=1)
    along = np.clip((points - a) @ span / np.dot(span, span), 0, 1)
    return np.linalg.norm(points - (a + along[:, None] * span), axis=1)
