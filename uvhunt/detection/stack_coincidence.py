"""The stack–gate coincidence: a third term beside the track stack and the peak gate, for
faint meteors that neither reaches alone (docs/quantization.md, "A coincidence of the stack
and the gate"). A pixel-frame fires when the stack's Z there is above the coincidence's
threshold (below the stack's own) and the gate's code, at some pixel-frame within ``FRAMES``
frames and ``PIXELS`` rows and columns of it, is above the coincidence's code (below the
gate's own). The stack's noise and the gate's peaks rarely meet; a faint meteor makes both.

The export stores its thresholds and ``uvhunt detect --stack`` and the benchmark fly it; in
hardware, ``hls/stack_coincidence.py`` computes it beside the track stack trigger.
"""

import numpy as np

from uvhunt.detection.event_quality import above, either, threshold_for_false_rate
from uvhunt.detection.events import Detections

FRAMES = 16
"""Frames either side of a Z within which a gate code counts, D3 frames."""
PIXELS = 1
"""Rows and columns either side of a Z's pixel within which a gate code counts, pixels."""
GATE_FRACTIONS = (0.75, 0.825, 0.9)
"""The coincidence's codes tried, as fractions of the gate's own code beside the stack; the
one whose threshold catches the most meteors on the sessions, the rate held, is kept."""


STRIDE = 2**40
"""Frames a pixel's keys span in ``coincident``'s sorted search (more than any movie's)."""


def coincident(
    tracks: Detections, gate: Detections, frames: int = FRAMES, pixels: int = PIXELS
) -> Detections:
    """The detections of ``tracks`` (the stack's Z above the coincidence's threshold) with one
    of ``gate`` (codes above the coincidence's code) within ``frames`` frames and ``pixels``
    rows and columns, scores kept: for each neighbouring pixel, a search of the gate's
    detections sorted by pixel and frame (no map of the movie)."""
    frame, row, col = (np.asarray(a, np.int64) for a in (tracks.frame, tracks.row, tracks.col))
    g_frame, g_row, g_col = (np.asarray(a, np.int64) for a in (gate.frame, gate.row, gate.col))
    keys = np.sort((g_row * 48 + g_col) * STRIDE + g_frame)
    keep = np.zeros(len(frame), bool)
    for dr in range(-pixels, pixels + 1):
        for dc in range(-pixels, pixels + 1):
            r, c = row + dr, col + dc
            inside = (r >= 0) & (r < 48) & (c >= 0) & (c < 48)
            low = (r * 48 + c) * STRIDE + frame - frames
            at = np.searchsorted(keys, low)
            found = at < len(keys)
            found[found] = keys[at[found]] <= low[found] + 2 * frames
            keep |= inside & found
    return Detections(frame[keep], row[keep], col[keep], np.asarray(tracks.score)[keep])


def describe(point: dict) -> str:
    """A stored coincidence (threshold, gate_code, frames, pixels) in words, as the commands
    print it: "Z > 97 with a code > 1099 within 16 frames and 1 pixel"."""
    threshold = point["threshold"]
    z = f"{threshold:g}" if isinstance(threshold, float) else str(threshold)
    return (
        f"Z > {z} with a code > {point['gate_code']} within {point['frames']} frames and "
        f"{point['pixels']} pixel"
    )


def coincidence_point(
    stack_movies: list,
    gate_movies: list,
    threshold: float,
    gate_code: int,
    rate: float,
    length: int,
    first: int,
    confidence: float,
) -> dict:
    """The coincidence's code and threshold beside the stack (Z > ``threshold``) and the gate
    (code > ``gate_code``): for each code of ``GATE_FRACTIONS``, the lowest Z at which the
    three terms hold ``rate`` false events per hour at ``confidence`` over the movies
    (``threshold_for_false_rate``, the two others beside); the code that catches the most
    meteors there is kept. ``stack_movies``, ``gate_movies``: each movie's highest Z and
    codes, truth and frames. Returns threshold, gate_code, frames, pixels and the figures
    measured there (not yet ``rate_held``)."""
    pair = [
        either(above(z, threshold), above(g, gate_code))
        for (z, _, _), (g, _, _) in zip(stack_movies, gate_movies, strict=True)
    ]
    best = None
    for fraction in GATE_FRACTIONS:
        code = int(gate_code * fraction)
        candidates = [
            (coincident(z, above(g, code)), truth, frames)
            for (z, truth, frames), (g, _, _) in zip(stack_movies, gate_movies, strict=True)
        ]
        if not any(len(found) for found, _, _ in candidates):
            continue
        z_threshold, figures = threshold_for_false_rate(
            candidates, rate, length, first, beside=pair, confidence=confidence
        )
        point = {"threshold": z_threshold, "gate_code": code, "figures": figures}
        if best is None or figures["meteors_caught"] > best["figures"]["meteors_caught"]:
            best = point
    if best is None:  # no Z near any code: at the stack's own threshold it adds nothing
        best = {"threshold": threshold, "gate_code": gate_code, "figures": None}
    return {**best, "frames": FRAMES, "pixels": PIXELS}
