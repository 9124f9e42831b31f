"""Skies and settings for the tests of the track stack's cores (``hls/stack_bumps.py``,
``hls/stack_tracks.py``, ``hls/stack_trigger.py``)."""

import numpy as np

from uvhunt.detection.track_stack_integer import IntegerTrackStack
from uvhunt.quant.preprocess import MAX_RAW

SMALL = IntegerTrackStack(
    gap=1,
    width=2,
    spread=3,
    history_bits=10,
    bump_shift=0,
    bump_bits=8,
    bump_significant_bits=3,
    cap=2.0,
    frames=4,
    recurrence=2,
    speeds=(0.5, 1.0),
    directions=4,
)
"""Small windows and narrow words for the bumps (b of 8 bits, 3 significant, x capped at
±2 σ); eight velocities whose offsets reach 3 pixels, over 4 frames, for the tracks."""


def nasty_sky(frames: int, pixels: int, stack: IntegerTrackStack, seed: int) -> np.ndarray:
    """(frames, pixels) raw counts for ``stack``'s settings: noise with meteors, a flat pixel,
    full swings, a step past the samples' clip, uniform counts and a lone spike and dip on a
    flat pixel, each alone in its spread's window (x capped both ways)."""
    brightest = 2**stack.history_bits << stack.history_shift  # raw counts that clip
    spread, last = stack.spread, frames - stack.spread - 2 * stack.margin  # last: f's end
    rng = np.random.default_rng(seed)
    raw = rng.poisson(brightest // 8, (frames, pixels)).astype(np.int64)  # b: a few bits
    for start in rng.integers(0, frames - 5, 6):  # meteors, bright and faint
        raw[start : start + 4, 0] += rng.integers(500, 40_000) * np.array([1, 3, 2, 1])
    raw[:, 1] = 2_000  # flat: b = 0, σ at its floor
    raw[:, 2] = rng.choice([0, MAX_RAW], frames)  # full swings: b saturates both ways
    raw[frames // 3 :, 3] = min(brightest * 3, MAX_RAW)  # a step past the clip
    raw[:, 4] = rng.integers(0, MAX_RAW + 1, frames)
    height = 2 ** (stack.bump_bits - 2 + stack.bump_shift) // (2 * stack.width)  # b: 2^(N−2)
    raw[:, 5] = min(height << stack.history_shift, MAX_RAW // 2)
    raw[last - 2, 5] = 2 * raw[0, 5]
    raw[last - 4 - 2 * spread, 5] = 0
    return raw[:, :pixels]
