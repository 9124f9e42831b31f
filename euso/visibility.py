"""How visible each simulated meteor is, before any trigger looks: signal-to-noise ratios of
its expected light against the expected light of everything else in the same pixels and
frames (background, ground lights, other events; Poisson variance = expected counts).

Two ratios per meteor, from the simulator's expected raw D3 counts (no noise drawn):

- ``pixel``: the best single pixel's best run of ``RUN_FRAMES`` frames, Σs / √Σb: what a
  per-pixel trigger on a 5-frame sum could reach if it knew the background exactly (the
  peak gate's and the conventional trigger's view of the meteor, with no shape or
  background-estimate losses);
- ``matched``: √Σ(s²/b) over every pixel-frame the meteor lights: the matched filter's, that
  of a trigger that knew the track and the light curve. No trigger does better (by the
  Cauchy–Schwarz inequality it bounds ``pixel`` and every other sum of pixel-frames).

They bound what a trigger can catch: a meteor whose ``pixel`` ratio is under the ratio that
noise reaches at the trigger's false-event rate is out of reach of any per-pixel trigger.
"""

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from uvhunt.euso.geometry import N_SIDE
from uvhunt.euso.session import SessionSimulator

RUN_FRAMES = 5
"""Frames of the single-pixel sum, D3 frames (the peak gate's and the seed study's
smoothing)."""


@dataclass(frozen=True)
class Visibility:
    pixel: float
    """Best single-pixel ``RUN_FRAMES``-frame signal-to-noise ratio, σ."""
    matched: float
    """Matched-filter signal-to-noise ratio over all the meteor's pixel-frames, σ."""


def ratios(signal: np.ndarray, noise: np.ndarray) -> Visibility:
    """The two ratios of one meteor from its expected light ``signal`` (frames, pixels) and
    the expected counts of everything else ``noise`` (same shape, > 0 where the pixel sees;
    pixels with no noise, dead ones, see nothing), raw D3 counts, frames consecutive."""
    noise = np.asarray(noise, np.float64)
    seen = noise > 0
    signal = np.where(seen, np.asarray(signal, np.float64), 0.0)
    matched = float(np.sqrt(np.sum(signal[seen] ** 2 / noise[seen])))
    if not signal.any():
        return Visibility(0.0, 0.0)
    run = min(RUN_FRAMES, signal.shape[0])
    sums = sliding_window_view(signal, run, axis=0).sum(axis=-1)
    spread = sliding_window_view(noise, run, axis=0).sum(axis=-1)
    pixel = np.divide(sums, np.sqrt(spread), out=np.zeros_like(sums), where=spread > 0)
    return Visibility(float(pixel.max()), matched)


def meteor_visibility(simulator: SessionSimulator) -> dict[int, Visibility]:
    """The two ratios of every meteor of a session, by event id (0 for a meteor whose light
    falls on no pixel that sees: out of the field, on PMT gaps or dead pixels)."""
    meteors = {}  # id: (first frame, lit pixels (flat), signal and total (frames, pixels))
    for record in simulator.events:
        if record.kind != "meteor":
            continue
        frame, row, col, counts = simulator.detected_light(record.id)
        first, last = record.start_frame, record.end_frame
        pixels, column = np.unique(row.astype(np.int64) * N_SIDE + col, return_inverse=True)
        signal = np.zeros((last - first + 1, pixels.size))
        np.add.at(signal, (frame - first, column), counts)
        meteors[record.id] = (first, pixels, signal, np.zeros_like(signal))
    for k in range(simulator.n_chunks):
        f0, f1 = simulator.block(k)
        within = [(i, m) for i, m in meteors.items() if m[0] < f1 and m[0] + len(m[2]) > f0]
        if not within:
            continue
        expected = simulator.expected(k)[0].reshape(f1 - f0, -1)
        for _, (first, pixels, signal, total) in within:
            lo, hi = max(f0, first), min(f1, first + len(signal))
            total[lo - first : hi - first] = expected[lo - f0 : hi - f0][:, pixels]
    return {i: ratios(signal, total - signal) for i, (_, _, signal, total) in meteors.items()}
