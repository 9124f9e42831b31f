"""The integer track stack: its bumps and stacks equal plain Python integers (the module
docstring's formulas, loop by loop), on skies with the nasty cases (b saturating both ways and
rounded to its significant bits, x capped both ways, clipped samples, negative bumps, a dead
pixel, raw counts of 0 and 2^22); with all of b's bits, x follows the float stack within half a
step and the root's floor; excluded pixels and short movies have no score."""

import dataclasses
import math

import numpy as np
import pytest

from uvhunt.detection.conventional import running_sum
from uvhunt.detection.track_stack import TrackStackTrigger, centred_window
from uvhunt.detection.track_stack_integer import (
    NO_SCORE,
    IntegerTrackStack,
    isqrt,
    round_significant,
    rounded_quotient,
)

SMALL = IntegerTrackStack(
    frames=6, gap=2, width=4, spread=5, recurrence=3, cap=3.0, bump_bits=12, fraction_bits=3
)


def _sky(frames: int, seed: int, mean: float = 10_000.0) -> np.ndarray:
    return np.random.default_rng(seed).poisson(mean, (frames, 48, 48)).astype(np.int64)


def _nasty_sky() -> np.ndarray:
    """Noise alone passes the cap (x reaches ±√(2H + 1) σ, above 3 σ at H = 5)."""
    raw = _sky(60, 1)
    raw[30, 11, 11] += 4_000_000  # b saturates at 2^11 − 1 …
    raw[:, 12, 12] = 2**20  # … and at −2^11: a bright pixel (s = 32,768) that drops to 0
    raw[31, 12, 12] = 0
    raw[25:28, 13, 13] -= 600  # negative bumps
    raw[:, 30, 30] = 0  # a dead pixel: b = 0, σ floors at 1
    raw[:, 31, 31] = 2**22  # a constant pixel whose samples clip (2^17 > 2^16 − 1)
    raw[:, 32, 32] += 2**21 - 10_000  # samples about 2^16: half of them clip
    return raw


def _rounded(value: int, bits: int) -> int:
    """A non-negative ``value`` to ``bits`` significant bits, halves up."""
    drop = max(value.bit_length() - bits, 0)
    if drop == 0:
        return value
    kept, rest = divmod(value, 2**drop)
    return (kept + (rest >= 2 ** (drop - 1))) * 2**drop


def _reference_x(trigger: IntegerTrackStack, raw: list[int]) -> list[int]:
    """x of one pixel's raw counts, in Python integers."""
    g, w, h, f = trigger.gap, trigger.width, trigger.spread, trigger.fraction_bits
    top, limit = 2 ** (trigger.bump_bits - 1), trigger.limit
    series = [min(r // 2**trigger.history_shift, 2**trigger.history_bits - 1) for r in raw]
    first, stop = g + w, len(series) - g - w
    b = {}
    for t in range(first, stop):
        around = sum(series[t - g - w : t - g]) + sum(series[t + g + 1 : t + g + w + 1])
        bump = (2 * w * series[t] - around) // 2**trigger.bump_shift  # floor
        bump = min(max(bump, -top), top - 1)
        magnitude = _rounded(abs(bump), trigger.bump_significant_bits)
        b[t] = magnitude if bump >= 0 else -magnitude
    x = [0] * len(series)
    for t in range(first, stop):
        window = [b[j] for j in range(max(first, t - h), min(stop, t + h + 1))]
        squares = sum(v * v for v in window)
        sigma = max(math.isqrt(squares // len(window)), 1)
        quotient = (abs(b[t]) * 2 ** (f + 1) // sigma + 1) // 2  # round, halves up
        x[t] = min(max(quotient if b[t] >= 0 else -quotient, -limit), limit)
    return x


def _reference_z(trigger: IntegerTrackStack, x: np.ndarray, t: int, row: int, col: int) -> int:
    def stack(end: int, track) -> int:
        return sum(
            int(x[end - back, row - dr, col - dc])
            for back, (dr, dc) in enumerate(track)
            if 0 <= row - dr < 48 and 0 <= col - dc < 48
        )

    d = trigger.recurrence
    return max(
        stack(t, track) - max(stack(t - d, track), stack(t + d, track))
        for track in trigger.offsets()
    )


def test_bumps_round_to_their_significant_bits():
    values = [0, 1, 15, 16, 17, 23, 24, 25, 31, 2**29 + 2**25, 2**29 + 2**25 - 1, 2**30 - 1]
    values += [int(v) for v in np.random.default_rng(3).integers(0, 2**30, 500)]
    got = round_significant(np.array(values, np.int64), 4)
    np.testing.assert_array_equal(got, [_rounded(v, 4) for v in values])
    assert got[3:9].tolist() == [16, 18, 24, 24, 26, 32]  # 17 and 25 are ties, rounded up
    np.testing.assert_array_equal(round_significant(np.array(values), 0), values)


def test_quotients_round_halves_away_from_zero():
    b = np.array([3, -3, 1, -1, 5, -5, 7, -7, 0, 2, -2, 32_767, -32_768], np.int64)
    sigma = np.array([2, 2, 2, 2, 2, 2, 4, 4, 9, 3, 3, 1, 1], np.int64)
    got = rounded_quotient(b, sigma, 0)
    # 1.5, -1.5, 0.5, -0.5, 2.5, -2.5, 1.75, -1.75, 0, 0.67, -0.67, and the extremes
    np.testing.assert_array_equal(got, [2, -2, 1, -1, 3, -3, 2, -2, 0, 1, -1, 32_767, -32_768])
    ties = rounded_quotient(np.array([3, -3, 5, -5]), np.array([8, 8, 8, 8]), 2)  # ±1.5, ±2.5
    np.testing.assert_array_equal(ties, [2, -2, 3, -3])


def test_isqrt_is_exact_at_the_edges():
    k = np.array([1, 2, 3, 1_000, 46_341, 2**20 - 1, 2**26 - 1], np.int64)
    values = np.concatenate([[0, 1, 2, 3], k * k - 1, k * k, k * k + 1, [2**52 - 1]])
    rng = np.random.default_rng(4)
    values = np.concatenate([values, rng.integers(0, 2**52, 2_000)]).astype(np.int64)
    expected = np.array([math.isqrt(int(v)) for v in values], np.int64)
    np.testing.assert_array_equal(isqrt(values), expected)


def test_bumps_and_stacks_equal_python_integers():
    raw = _nasty_sky()
    trigger = SMALL.validate()
    x = trigger.bumps(raw)
    pixels = [(10, 10), (11, 11), (12, 12), (13, 13), (30, 30), (31, 31), (32, 32), (0, 0)]
    pixels += [(47, 47)]
    rng = np.random.default_rng(5)
    pixels += [(int(r), int(c)) for r, c in rng.integers(0, 48, (40, 2))]
    expected = np.zeros_like(x)
    for r, c in pixels:
        expected[:, r, c] = _reference_x(trigger, [int(v) for v in raw[:, r, c]])
    rows, cols = np.array(pixels).T
    np.testing.assert_array_equal(x[:, rows, cols], expected[:, rows, cols])
    assert x.max() == trigger.limit and x.min() == -trigger.limit
    s = np.minimum(raw >> 5, 2**16 - 1)
    assert (s[:, 31, 31] == 2**16 - 1).all()  # the samples clip
    assert 0.2 < (s[:, 32, 32] == 2**16 - 1).mean() < 0.8
    bumps = [
        8 * s[t, r, c] - s[t - 6 : t - 2, r, c].sum() - s[t + 3 : t + 7, r, c].sum()
        for t, r, c in ((30, 11, 11), (31, 12, 12))
    ]
    assert bumps[0] >> 2 > 2**11 and bumps[1] >> 2 < -(2**11)  # b saturates both ways
    assert (x[:, 30, 30] == 0).all() and (x[:, 31, 31] == 0).all()
    assert (x[25:28, 13, 13] < 0).all()
    z = trigger.significance(raw)
    first = trigger.margin + trigger.frames - 1 + trigger.recurrence
    last = len(raw) - 1 - trigger.margin - trigger.recurrence
    points = [(first, 0, 0), (last, 47, 47), (23, 10, 10), (31, 11, 11), (33, 12, 12)]
    drawn = (rng.integers(first, last + 1, 40), rng.integers(0, 48, 40), rng.integers(0, 48, 40))
    points += [(int(t), int(r), int(c)) for t, r, c in zip(*drawn, strict=True)]
    for t, r, c in points:
        assert z[t, r, c] == _reference_z(trigger, x, t, r, c), (t, r, c)
    assert (z[:first] == NO_SCORE).all() and (z[last + 1 :] == NO_SCORE).all()
    assert (z[first : last + 1] > NO_SCORE).all()


def test_the_integers_follow_the_float_stack():
    """With no bits dropped from B and exact squares, x is the float's on the same samples to
    within half a step and the integer root's floor (the defaults' coarser b and squares are
    measured on the training sessions instead: 158 meteors, the float 159)."""
    raw = _sky(300, 7, mean=16_000.0)
    raw[100:120, 5, 5] += np.arange(20) * 60
    integer = IntegerTrackStack(bump_shift=0, bump_bits=20, bump_significant_bits=0).validate()
    step = 2.0**-integer.fraction_bits
    x = integer.bumps(raw) * step
    samples = np.minimum(raw >> integer.history_shift, 2**integer.history_bits - 1)
    expected = TrackStackTrigger().validate().bumps(samples << integer.history_shift)
    # b is exact here; the integer root of the floored mean of b² is below its real root σ_b
    # (each pixel-frame's, from the same b) by δ < 1 + 1/σ_b (the root's floor, and the mean's
    # floor through the root), so x's rounding costs half a step and σ's floors |x|·δ/(σ_b − δ)
    first, stop = integer.margin, len(raw) - integer.margin
    around = integer.baseline(running_sum(samples, np.int64), first, stop)
    b = (2 * integer.width * samples[first:stop] - around).astype(np.float64)
    squares = running_sum(b * b)
    low, high = centred_window(len(b), integer.spread)
    sigma_b = np.sqrt((squares[high] - squares[low]) / (high - low)[:, None, None])
    assert sigma_b.min() > 40  # the bound below is for a sky of Poisson noise (σ_b ≈ 97)
    delta = 1 + 1 / sigma_b
    bound = step / 2 + np.abs(expected[first:stop]) * delta / (sigma_b - delta)
    error = np.abs(x - expected)[first:stop]
    assert (error <= bound + 1e-6).all()
    assert error.max() > step / 4  # the rounding is there to be bounded


def test_excluded_pixels_add_nothing_and_have_no_score():
    trigger = IntegerTrackStack().validate()
    raw = _sky(200, 3)
    excluded = np.zeros((48, 48), bool)
    excluded[20, 8:13] = True
    raw[80:96, 20, 10] += 5_000
    z = trigger.significance(raw, excluded)
    assert (z[:, excluded] == NO_SCORE).all() and (z[60:150, ~excluded] > NO_SCORE).all()
    assert z[80:110, 19:22, 7:14].max() < trigger.significance(raw)[80:110, 20, 10].max()


@pytest.mark.parametrize(
    "field, value",
    [
        ("bump_shift", -1),
        ("bump_bits", 3),
        ("history_bits", 0),
        ("bump_significant_bits", 17),
        ("fraction_bits", 9),
        ("cap", 8.1),
        ("cap", float("inf")),
        ("frames", 1),
    ],
)
def test_bad_settings_are_refused(field, value):
    with pytest.raises(ValueError, match="track stack|x has|cap"):
        IntegerTrackStack(**{field: value}).validate()


@pytest.mark.parametrize("frames", [1, SMALL.frames - 1, SMALL.margin * 2 + SMALL.frames])
def test_a_movie_too_short_has_no_score(frames):
    z = SMALL.significance(_sky(frames, 6))
    assert z.shape == (frames, 48, 48) and z.dtype == np.int32 and (z == NO_SCORE).all()


@pytest.mark.parametrize("scale", [1, 150, 200])  # int16; a stack fits, a difference not; int32
def test_stacks_are_the_same_in_any_chunks(scale):
    trigger = dataclasses.replace(SMALL, recurrence=SMALL.frames).validate()  # D = K
    k, d = trigger.frames, trigger.recurrence
    x = np.random.default_rng(8).integers(-32, 33, (150, 48, 48)).astype(np.int32) * scale
    x[60 : 60 + k] = 32 * scale  # a stack of K · 32 …
    x[60 - d : 60 - d + k] = -32 * scale  # … with −K · 32 D frames before and after it
    x[60 + d : 60 + d + k] = -32 * scale
    valid = slice(k - 1 + d, len(x) - d)
    exact = trigger.best_kept(x.astype(np.float64), len(x))  # float64: exact at these sizes
    for chunk in (1, 7, 64, 150):
        z = trigger.best_kept(x, chunk)
        assert z.dtype == np.int32
        np.testing.assert_array_equal(z[valid], exact[valid].astype(np.int32))
        assert (z[: valid.start] == NO_SCORE).all() and (z[valid.stop :] == NO_SCORE).all()
    assert np.abs(exact[valid]).max() == 2 * k * 32 * scale  # the widest difference
