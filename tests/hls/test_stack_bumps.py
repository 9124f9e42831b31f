# amaranth: UnusedElaboratable=no
"""The track stack's bumps in hardware (``hls/stack_bumps.py``) in Amaranth's simulator, a few
pixels: every x equals the integer twin's (``IntegerTrackStack.bumps``) exactly, on skies that
hold the nasty cases (samples clipped, b saturated both ways, rounding ties of the mini-float,
x capped both ways, σ at its floor, raw counts of 0 and the largest), with the stream stalled
at random on both sides."""

import numpy as np
import pytest

from uvhunt.detection.track_stack_integer import IntegerTrackStack, round_significant
from uvhunt.hls.stack_bumps import StackBumps
from uvhunt.quant.preprocess import MAX_RAW
from uvhunt.sim.stack_stream import stream_bumps


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
    raw[frames // 3 :, 3] = brightest * 3  # a step past the clip
    raw[:, 4] = rng.integers(0, MAX_RAW + 1, frames)
    height = 2 ** (stack.bump_bits - 2 + stack.bump_shift) // (2 * stack.width)  # b: 2^(N−2)
    raw[:, 5] = height << stack.history_shift
    raw[last - 2, 5] = 2 * height << stack.history_shift
    raw[last - 4 - 2 * spread, 5] = 0
    return raw[:, :pixels]


def twin_on(stack: IntegerTrackStack, raw: np.ndarray):
    """The twin's x, and its (b saturated, b rounded, σ), on ``raw`` (frames, pixels)."""
    movie = np.zeros((len(raw), 48, 48), np.int64)
    movie[:, 0, : raw.shape[1]] = raw
    saturated, b, sigma = stack.parts(movie)
    cut = slice(0, raw.shape[1])
    return stack.bumps(movie)[:, 0, cut], saturated[:, 0, cut], b[:, 0, cut], sigma[:, 0, cut]


CASES = {
    "small windows, narrow words": (
        IntegerTrackStack(
            gap=1,
            width=2,
            spread=3,
            history_bits=10,
            bump_shift=0,
            bump_bits=8,
            bump_significant_bits=3,
            cap=2.0,
        ),
        6,
        48,
    ),
    "the twin's defaults": (IntegerTrackStack(), 6, 2 * 16 + 81 + 90),
}


@pytest.mark.parametrize("case", CASES)
def test_the_bumps_core_equals_the_integer_twin(case):
    stack, pixels, frames = CASES[case]
    raw = nasty_sky(frames, pixels, stack, seed=7)
    core = StackBumps.for_stack(stack, pixels)
    x, valid, _ = stream_bumps(core, raw, stall_seed=3)
    want, saturated, b, sigma = twin_on(stack, raw)
    start = 2 * stack.margin + stack.spread  # the first input frame with an x
    np.testing.assert_array_equal(valid, np.tile(np.arange(frames)[:, None] >= start, pixels))
    np.testing.assert_array_equal(x[:start], 0)
    np.testing.assert_array_equal(x[start:], want[stack.margin : frames - core.lag])
    # the stimulus reached the nasty cases, in the frames compared
    seen = slice(0, frames - core.lag - stack.margin)  # b's frames whose x came out
    top = 2 ** (stack.bump_bits - 1)
    assert (raw >> stack.history_shift >= 2**stack.history_bits).any()  # samples clipped
    assert (saturated[seen] == top - 1).any() and (saturated[seen] == -top).any()
    magnitude = np.abs(saturated[seen])
    drop = np.maximum(np.frexp(magnitude.astype(float))[1] - stack.bump_significant_bits, 0)
    tie = (drop > 0) & ((magnitude & ((1 << drop) - 1)) == (1 << drop) >> 1)
    assert tie.any()  # a mini-float rounding tie
    assert (round_significant(magnitude, stack.bump_significant_bits) > magnitude).any()
    compared = want[stack.margin : frames - core.lag]
    assert (compared == stack.limit).any() and (compared == -stack.limit).any()
    assert (sigma[seen] == 1).any() and (b[seen] == 0).any()
    assert (raw == 0).any() and (raw == MAX_RAW).any()


def test_the_bumps_core_rounds_its_quotient_halves_away_from_zero():
    """b·2^F/σ exactly halfway between two steps, both signs: σ = 2 from a pixel whose bumps
    are ±2 and ±1 (F = 0), where round(±1/2) must be ±1."""
    stack = IntegerTrackStack(
        gap=0,
        width=1,
        spread=1,
        history_shift=0,
        bump_shift=0,
        bump_significant_bits=16,
        fraction_bits=0,
        cap=8.0,
    )
    rng = np.random.default_rng(5)
    raw = 1_000 + rng.integers(-1, 2, (60, 2))  # B = 2s(c) − s(c − 1) − s(c + 1): small
    _, b, sigma = twin_on(stack, raw)[1:]
    frames = len(raw)
    core = StackBumps.for_stack(stack, 2)
    x, _, _ = stream_bumps(core, raw, stall_seed=1)
    want = twin_on(stack, raw)[0]
    start = 2 * stack.margin + stack.spread
    np.testing.assert_array_equal(x[start:], want[stack.margin : frames - core.lag])
    halves = (2 * np.abs(b)) % sigma == 0
    halves &= (2 * np.abs(b) // sigma) % 2 == 1
    assert (halves & (b > 0)).any() and (halves & (b < 0)).any()


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"bump_significant_bits": 0}, "mini-floats"),
        ({"pixels": 0}, "pixels"),
        ({"width": 0}, "width"),
        ({"bump_bits": 24, "bump_significant_bits": 1}, "exponent"),
    ],
)
def test_the_bumps_core_refuses_what_it_cannot_build(settings, message):
    with pytest.raises(ValueError, match=message):
        StackBumps(**settings)


def test_the_bumps_core_takes_at_most_its_worst_clocks_and_reaches_them():
    """Unstalled, a pixel takes ``worst_clocks_per_pixel`` clocks at most, and a pixel whose
    bumps saturate takes exactly that (the bound the real-time margin is worked out from)."""
    stack = CASES["small windows, narrow words"][0]
    raw = nasty_sky(48, 6, stack, seed=2)
    core = StackBumps.for_stack(stack, 6)
    _, _, pace = stream_bumps(core, raw)
    first = 2 * stack.margin + stack.spread
    assert pace[first + 1 :].max() == core.worst_clocks_per_pixel
