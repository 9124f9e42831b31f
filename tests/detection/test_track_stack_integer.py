"""The integer track stack: its bumps and stacks equal plain Python integers (the module
docstring's formulas, loop by loop), on skies with the nasty cases (b saturating both ways, x
capped both ways, negative bumps rounded, a dead pixel, raw counts of 0 and 2^22); it follows
the float stack to within half a step of x; excluded pixels and short movies have no score."""

import math

import numpy as np
import pytest

from uvhunt.detection.track_stack import TrackStackTrigger
from uvhunt.detection.track_stack_integer import NO_SCORE, IntegerTrackStack, isqrt

SMALL = IntegerTrackStack(
    frames=6, gap=2, width=4, spread=5, recurrence=3, cap=3.0, bump_bits=12, fraction_bits=3
)


def _sky(frames: int, seed: int, mean: float = 10_000.0) -> np.ndarray:
    return np.random.default_rng(seed).poisson(mean, (frames, 48, 48)).astype(np.int64)


def _nasty_sky() -> np.ndarray:
    """Noise alone passes the cap (x reaches ±√(2H + 1) σ, above 3 σ at H = 5)."""
    raw = _sky(60, 1)
    raw[30, 11, 11] += 4_000_000  # b saturates at 2^11 − 1 …
    raw[31, 12, 12] = 0  # … and at −2^11 (B ≈ −8·10,000, b ≈ −5,000)
    raw[25:28, 13, 13] -= 600  # negative bumps, rounded halves away from zero
    raw[:, 30, 30] = 0  # a dead pixel: b = 0, σ floors at 1
    raw[:, 31, 31] = 2**22  # a saturated, constant pixel
    return raw


def _reference_x(trigger: IntegerTrackStack, series: list[int]) -> list[int]:
    """x of one pixel's raw counts, in Python integers."""
    g, w, h, f = trigger.gap, trigger.width, trigger.spread, trigger.fraction_bits
    top, limit = 2 ** (trigger.bump_bits - 1), trigger.limit
    first, stop = g + w, len(series) - g - w
    b = {}
    for t in range(first, stop):
        around = sum(series[t - g - w : t - g]) + sum(series[t + g + 1 : t + g + w + 1])
        bump = (2 * w * series[t] - around) // 2**trigger.bump_shift  # floor
        b[t] = min(max(bump, -top), top - 1)
    x = [0] * len(series)
    for t in range(first, stop):
        window = [b[j] for j in range(max(first, t - h), min(stop, t + h + 1))]
        sigma = max(math.isqrt(sum(v * v for v in window) // len(window)), 1)
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


def test_isqrt_is_exact_at_the_edges():
    k = np.array([1, 2, 3, 1_000, 2**20 - 1, 2**26 - 1, 67_108_863], np.int64)
    values = np.concatenate([[0, 1, 2, 3], k * k - 1, k * k, k * k + 1, [2**52 - 1]])
    rng = np.random.default_rng(4)
    values = np.concatenate([values, rng.integers(0, 2**52, 2_000)]).astype(np.int64)
    expected = np.array([math.isqrt(int(v)) for v in values], np.int64)
    np.testing.assert_array_equal(isqrt(values), expected)


def test_bumps_and_stacks_equal_python_integers():
    raw = _nasty_sky()
    trigger = SMALL.validate()
    x = trigger.bumps(raw)
    pixels = [(10, 10), (11, 11), (12, 12), (13, 13), (30, 30), (31, 31), (0, 0), (47, 47)]
    rng = np.random.default_rng(5)
    pixels += [(int(r), int(c)) for r, c in rng.integers(0, 48, (40, 2))]
    expected = np.zeros_like(x)
    for r, c in pixels:
        expected[:, r, c] = _reference_x(trigger, [int(v) for v in raw[:, r, c]])
    rows, cols = np.array(pixels).T
    np.testing.assert_array_equal(x[:, rows, cols], expected[:, rows, cols])
    assert x.max() == trigger.limit and x.min() == -trigger.limit
    bumps = [
        8 * raw[t, r, c] - raw[t - 6 : t - 2, r, c].sum() - raw[t + 3 : t + 7, r, c].sum()
        for t, r, c in ((30, 11, 11), (31, 12, 12))
    ]
    assert bumps[0] >> 4 > 2**11 and bumps[1] >> 4 < -(2**11)  # b saturates both ways
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
    raw = _sky(300, 7, mean=16_000.0)
    raw[100:120, 5, 5] += np.arange(20) * 60
    integer = IntegerTrackStack().validate()
    real = TrackStackTrigger().validate()
    step = 2.0**-integer.fraction_bits
    x, expected = integer.bumps(raw) * step, real.bumps(raw)
    # x rounds to half a step; b drops 4 bits of 2W × the bump (0.7 count of σ ≈ 130 here) and
    # σ's integer root of a floored mean loses up to 1/σ ≈ 0.5 % of it (σ ≈ 200 in b's units)
    assert (np.abs(x - expected) <= step / 2 + 0.01 * np.abs(expected) + 0.01).all()
    z = integer.significance(raw) / integer.threshold_from_sigma(1.0)
    expected = real.significance(raw)
    inside = np.isfinite(expected)
    # S_v and the S_v it subtracts: each K half-steps at most (and b's dropped bits), over √K
    assert np.abs(z[inside] - expected[inside]).max() <= step * np.sqrt(integer.frames)


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
    [("bump_shift", -1), ("bump_bits", 3), ("fraction_bits", 9), ("cap", 8.1), ("frames", 1)],
)
def test_bad_settings_are_refused(field, value):
    with pytest.raises(ValueError, match="track stack|x has|cap"):
        IntegerTrackStack(**{field: value}).validate()


@pytest.mark.parametrize("frames", [1, SMALL.frames - 1, SMALL.margin * 2 + SMALL.frames])
def test_a_movie_too_short_has_no_score(frames):
    z = SMALL.significance(_sky(frames, 6))
    assert z.shape == (frames, 48, 48) and z.dtype == np.int32 and (z == NO_SCORE).all()
