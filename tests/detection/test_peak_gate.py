"""The peak-gated trigger: its whole-movie codes are the per-window rule, the rule's integers
equal a plain per-window reference (Python integers), and the gate keeps bumps inside the
window and drops light that rises across it."""

import numpy as np
import pytest

from tests.raw_series import nasty_series
from uvhunt.detection.peak_gate import SUM_FRAMES, PeakGateTrigger
from uvhunt.detection.scoring import NO_WINDOW
from uvhunt.quant.preprocess import Preprocessing

P = Preprocessing()
DEFAULT_GATE = PeakGateTrigger().gate


def _reference(q, gate=DEFAULT_GATE, fraction_bits=8) -> int:
    """The module docstring's rule, one window, in Python integers."""
    q = [int(v) for v in q]
    n = len(q)
    sums = [sum(q[j : j + SUM_FRAMES]) for j in range(n - SUM_FRAMES + 1)]
    best = max(range(len(sums)), key=lambda j: (sums[j], -j))  # the first of the largest
    peak, centre = sums[best], best + SUM_FRAMES // 2
    spread = n * sum(v * v for v in q) - sum(q) ** 2
    if peak <= 0 or not gate[0] <= centre <= gate[1]:
        return -1
    return (2**fraction_bits * n * n * peak * peak) // (SUM_FRAMES**2 * (spread + n * n))


def test_window_codes_equal_the_reference_on_nasty_windows():
    rng = np.random.default_rng(5)
    windows = [
        np.zeros(48),  # no bump at all
        np.full(48, 127),  # saturated, flat
        np.r_[np.full(24, -128), np.full(24, 127)],  # a step between the extremes
        np.r_[np.zeros(6), np.full(5, 127), np.zeros(37)],  # centre 8: the gate's first frame
        np.r_[np.zeros(20), [3, 3, 3, 3, 3], np.zeros(5), [3, 3, 3, 3, 3], np.zeros(13)],  # tie
        np.r_[np.zeros(37), np.full(5, 127), np.zeros(6)],  # centre 39: the gate's last frame
        np.r_[np.zeros(38), np.full(5, 127), np.zeros(5)],  # centre 40: outside
    ]
    windows += list(rng.integers(-128, 128, (300, 48)))
    windows += list(np.clip(rng.normal(0, 4, (300, 48)).round(), -128, 127))
    q = np.array(windows, np.int32)
    got = PeakGateTrigger().validate().window_codes(q)
    expected = np.array([_reference(w) for w in q])
    np.testing.assert_array_equal(got, expected)
    assert got[3] > 0 and got[5] > 0 and got[6] == -1 and got[0] == -1


@pytest.mark.parametrize("largest", [965, 966, 2**15])
def test_wide_inputs_are_exact_in_int32_up_to_its_edge_and_in_int64_beyond(largest):
    # L²·largest² < 2**31 up to 965 for L = 48: the sums stay in int32 there, not beyond
    rng = np.random.default_rng(largest)
    q = rng.integers(-largest, largest + 1, (200, 48))
    q[0] = np.r_[np.full(24, -largest), np.full(24, largest)]  # the largest V, L²·largest²
    q[1] = np.r_[np.zeros(20), np.full(5, largest), np.zeros(23)]  # the largest S
    q[2] = np.full(48, -largest)
    got = PeakGateTrigger().validate().window_codes(q.astype(np.int32))
    np.testing.assert_array_equal(got, [_reference(w) for w in q])
    peak, _, spread = PeakGateTrigger.window_parts(q.astype(np.int32))
    assert spread[0] == 48 * 48 * largest * largest and peak[1] == 5 * largest


def test_movie_codes_are_the_rule_on_every_window():
    rng = np.random.default_rng(3)
    raw = rng.poisson(16_384, (130, 48, 48)).astype(np.uint32)
    raw[60:64, 5, 7] += 3_000  # a short bump, 23 σ per frame
    raw[:, 9, 9] = np.linspace(16_384, 29_384, 130).astype(np.uint32)  # a ramp
    trigger = PeakGateTrigger().validate()
    codes = trigger.codes(raw, P)
    assert codes.dtype == np.int32
    assert (codes[:47] == NO_WINDOW).all() and (codes[47:] != NO_WINDOW).all()
    for t in (47, 64, 80, 129):  # every pixel's window against the rule
        windows = np.ascontiguousarray(raw[t - 47 : t + 1].reshape(48, -1).T)
        expected = [_reference(q) for q in P.codes(windows)]
        np.testing.assert_array_equal(codes[t].ravel(), expected)
    noise = np.delete(codes[47:].reshape(83, -1), [5 * 48 + 7, 9 * 48 + 9], axis=1)
    assert codes[80, 5, 7] > noise.max()  # the bump, mid-window: counted above all noise
    assert (codes[47:, 9, 9] == -1).all()  # the ramp peaks at the window's edge: never
    assert codes[64, 5, 7] == -1  # the bump at the window's newest frames: not yet
    # a 4-frame bump: z is about (4/5)/√(4/48 · 44/48) = 2.9 whatever its height
    assert 2.4 < PeakGateTrigger.z(codes[80, 5, 7]) < 2.9


def test_the_gate_is_inclusive_and_validated():
    q = np.zeros((1, 48), np.int32)
    q[0, 4:9] = [1, 2, 3, 2, 1]  # 5-frame sum largest centred on frame 6 alone
    assert PeakGateTrigger(gate=(6, 41)).window_codes(q)[0] > 0
    assert PeakGateTrigger(gate=(7, 41)).window_codes(q)[0] == -1
    assert PeakGateTrigger().gate == (8, 39)  # the default (docs/quantization.md)
    for gate in [(1, 10), (10, 46), (30, 20)]:
        with pytest.raises(ValueError, match="peak gate"):
            PeakGateTrigger(gate=gate).validate()


@pytest.mark.parametrize(
    "p",
    [Preprocessing(), Preprocessing(3, 6, 10), Preprocessing(0, 16, 16), Preprocessing(2, 4, 8)],
    ids=["default", "narrow", "no-shift", "4-bit"],
)
@pytest.mark.parametrize(
    "trigger",
    [PeakGateTrigger(), PeakGateTrigger(16, (2, 13)), PeakGateTrigger(bits=4)],
    ids=["default", "16-frame", "4-bit"],
)
def test_series_parts_are_the_rule_on_every_window(p, trigger):
    """A series' S, c and V from its running sums and tagged maxima (codes only where they
    saturate) give every window's rule on the gate's own codes (its bits, the network's
    shift and history), on nasty series (saturating above and below, dead pixels, the
    largest raw value) and on two-level series full of tied five-frame sums."""
    rng = np.random.default_rng(11)
    gate_p = trigger.preprocessing(p)
    for series in (nasty_series(4, 400, 130), rng.integers(0, 3, (300, 130)) * 2**p.shift):
        series = series.astype(np.int32)
        codes = gate_p.series_codes(series, trigger.length)
        got = trigger.series_parts(series, p)
        for part, expected in zip(got, trigger.window_parts(codes), strict=True):
            np.testing.assert_array_equal(part, expected)
        saturated = ((codes == gate_p.low) | (codes == gate_p.high)).any(axis=-1)
        if series.max() > 2**p.shift * 2:  # the nasty series: both ways of finding them
            assert saturated.any() and not saturated.all()
    raw = nasty_series(5, 48 * 48, 120).T.reshape(120, 48, 48)
    codes = trigger.codes(raw, p)
    windows = np.ascontiguousarray(raw.reshape(120, -1).T, np.int32)
    expected = trigger.window_codes(gate_p.series_codes(windows, trigger.length)).T
    np.testing.assert_array_equal(codes.reshape(120, -1)[trigger.length - 1 :], expected)
    sample = windows[:50, 120 - trigger.length :]  # the last windows, in Python integers
    reference = [_reference(q, trigger.gate) for q in gate_p.codes(sample)]
    np.testing.assert_array_equal(codes.reshape(120, -1)[-1, :50], reference)


def test_the_raw_history_form_scores_window_by_window():
    """Without a history clip (history_bits 0) the codes are not samples less a baseline:
    the movie's codes come from the codes themselves, and the series path refuses."""
    p = Preprocessing(5, 8, 0)
    raw = nasty_series(6, 48 * 48, 60).T.reshape(60, 48, 48)
    windows = np.ascontiguousarray(raw.reshape(60, -1).T, np.int32)
    expected = PeakGateTrigger().window_codes(p.series_codes(windows, 48)).T
    np.testing.assert_array_equal(PeakGateTrigger().codes(raw, p).reshape(60, -1)[47:], expected)
    with pytest.raises(ValueError, match="history form"):
        PeakGateTrigger().series_parts(windows, p)


def test_the_gate_keeps_its_8_bits_whatever_the_network_reads():
    """A network on 6-bit codes leaves the gate on 8-bit ones (the core clips the network's
    inputs after the gate has its codes): the same codes at both network widths, and bumps
    that the 6-bit codes would flatten keep their height."""
    raw = nasty_series(7, 48 * 48, 90).T.reshape(90, 48, 48)
    eight, six = Preprocessing(), Preprocessing(bits=6)
    trigger = PeakGateTrigger().validate()
    codes = trigger.codes(raw, six)
    np.testing.assert_array_equal(codes, trigger.codes(raw, eight))
    windows = np.ascontiguousarray(raw.reshape(90, -1).T, np.int32)
    narrow = trigger.window_codes(six.series_codes(windows, 48)).T
    assert (codes.reshape(90, -1)[47:] != narrow).any()  # the stimulus tells them apart
    assert trigger.preprocessing(six) == eight
    with pytest.raises(ValueError, match="input bits"):
        PeakGateTrigger(bits=9).validate()
