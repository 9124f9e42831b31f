"""The peak-gated trigger: its whole-movie scores are the per-window rule, and the gate keeps
bumps inside the window and drops light that rises across it."""

import numpy as np
import pytest

from uvhunt.detection.peak_gate import PeakGateTrigger
from uvhunt.quant.features import five_features
from uvhunt.quant.preprocess import Preprocessing, float_residual

P = Preprocessing()


def _window(values) -> np.ndarray:
    return float_residual(np.asarray(values, np.float64)[None], "raw", P)


def test_movie_scores_are_the_rule_on_every_window():
    rng = np.random.default_rng(3)
    raw = rng.poisson(16_384, (130, 48, 48)).astype(np.uint32)
    raw[60:64, 5, 7] += 3_000  # a short bump, 23 σ per frame
    raw[:, 9, 9] = np.linspace(16_384, 29_384, 130).astype(np.uint32)  # a ramp, unclipped
    trigger = PeakGateTrigger().validate()
    z = trigger.scores(raw, P)
    assert np.isnan(z[:47]).all() and not np.isnan(z[47:]).any()
    for t in (47, 64, 80, 129):  # every pixel's window against the five features
        windows = np.ascontiguousarray(raw[t - 47 : t + 1].reshape(48, -1).T, np.float64)
        f = five_features(float_residual(windows, "raw", P))
        inside = (f[:, 1] >= 6) & (f[:, 1] <= 41)
        expected = np.where(inside, f[:, 0] / np.sqrt(f[:, 4].astype(np.float64) + 1.0), -np.inf)
        np.testing.assert_array_equal(z[t].ravel(), expected.astype(np.float32))
    for t, r, c in [(47, 0, 0), (80, 5, 7), (129, 47, 47), (90, 9, 9), (64, 5, 7)]:
        residual = float_residual(raw[t - 47 : t + 1, r, c][None].astype(np.float64), "raw", P)
        peak, frame, _, _, var = five_features(residual)[0]
        expected = peak / np.sqrt(var + 1.0) if 6 <= frame <= 41 else -np.inf
        assert z[t, r, c] == np.float32(expected)
    noise = np.delete(z[47:].reshape(83, -1), [5 * 48 + 7, 9 * 48 + 9], axis=1)
    assert z[80, 5, 7] > noise[np.isfinite(noise)].max()  # the bump, mid-window: counted
    assert np.isneginf(z[47:, 9, 9]).all()  # the ramp peaks at the window's edge: never
    assert np.isneginf(z[64, 5, 7])  # the bump at the window's newest frames: not yet


def test_the_gate_is_inclusive_and_validated():
    bump = np.full(48, 16_384.0)
    bump[4:9] += np.array([1, 2, 3, 2, 1]) * 600.0  # smoothed peak at frame 6 alone
    inside = PeakGateTrigger(gate=(6, 41)).window_scores(_window(bump))
    outside = PeakGateTrigger(gate=(7, 41)).window_scores(_window(bump))
    assert np.isfinite(inside[0]) and np.isneginf(outside[0])
    for gate in [(-1, 10), (10, 48), (30, 20)]:
        with pytest.raises(ValueError, match="peak gate"):
            PeakGateTrigger(gate=gate).validate()
