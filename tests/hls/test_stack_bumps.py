# amaranth: UnusedElaboratable=no
"""The track stack's bumps in hardware (``hls/stack_bumps.py``) in Amaranth's simulator, a few
pixels: every x equals the integer twin's (``IntegerTrackStack.bumps``) exactly, on skies that
hold the nasty cases (samples clipped, b saturated both ways, rounding ties of the mini-float,
x capped both ways, σ at its floor, raw counts of 0 and the largest), with the stream stalled
at random on both sides; and at the edges of its settings."""

import dataclasses

import numpy as np
import pytest

from tests.stack_skies import SMALL, nasty_sky
from uvhunt.detection.track_stack_integer import IntegerTrackStack, round_significant
from uvhunt.hls.stack_bumps import StackBumps
from uvhunt.quant.preprocess import MAX_RAW
from uvhunt.sim.stack_stream import stream_bumps


def twin_on(stack: IntegerTrackStack, raw: np.ndarray):
    """The twin's x, and its (b saturated, b rounded, σ), on ``raw`` (frames, pixels)."""
    movie = np.zeros((len(raw), 48, 48), np.int64)
    movie[:, 0, : raw.shape[1]] = raw
    saturated, b, sigma = stack.parts(movie)
    cut = slice(0, raw.shape[1])
    x = stack.quotients(movie.shape, b, sigma)
    return x[:, 0, cut], saturated[:, 0, cut], b[:, 0, cut], sigma[:, 0, cut]


CASES = {
    "small windows, narrow words": (SMALL, 6, 48),
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


@pytest.mark.parametrize(
    "settings",
    [
        {"bump_bits": 4, "bump_significant_bits": 2},
        {"bump_bits": 5, "bump_significant_bits": 1},
        {"bump_bits": 6, "bump_significant_bits": 1},
        {"history_bits": 6, "bump_bits": 16, "bump_significant_bits": 4},
        {"history_bits": 8, "bump_bits": 24, "bump_significant_bits": 12},
    ],
    ids=["N 4", "N 5, Q 1", "N 6, Q 1", "N wider than B", "N 24"],
)
def test_the_bumps_core_equals_the_twin_at_the_edges_of_its_settings(settings):
    """The narrowest bumps and mini-floats (a 1-bit mantissa), and bumps wider than B needs
    (b sign-extended): x equals the twin's, negative ones among them."""
    stack = dataclasses.replace(SMALL, **settings)
    frames = 30
    raw = nasty_sky(frames, 6, stack, seed=11)
    x, _, _ = stream_bumps(StackBumps.for_stack(stack, 6), raw, stall_seed=2)
    want = twin_on(stack, raw)[0]
    start = 2 * stack.margin + stack.spread
    compared = want[stack.margin : frames - stack.spread - stack.margin]
    np.testing.assert_array_equal(x[start:], compared)
    assert (compared < 0).any() and (compared > 0).any()
