"""The track stack: its bumps and stacks equal a plain per-pixel reference (the module
docstring's formulas, loops in float64), a meteor moving across the field stands out where
its track ends, and excluded pixels add nothing."""

import numpy as np
import pytest

from uvhunt.detection.track_stack import TrackStackTrigger

SMALL = TrackStackTrigger(frames=6, gap=2, width=4, spread=5, recurrence=3, cap=3.0)


def _sky(frames: int, seed: int, mean: float = 10_000.0) -> np.ndarray:
    return np.random.default_rng(seed).poisson(mean, (frames, 48, 48)).astype(np.int64)


def _reference_bumps(trigger: TrackStackTrigger, raw: np.ndarray) -> np.ndarray:
    frames, g, w, h = len(raw), trigger.gap, trigger.width, trigger.spread
    r = raw.astype(np.float64)
    bump = np.zeros_like(r)
    inside = range(g + w, frames - g - w)
    for t in inside:
        around = np.r_[r[t - g - w : t - g], r[t + g + 1 : t + g + w + 1]]
        bump[t] = r[t] - around.mean(axis=0)
    x = np.zeros_like(r)
    first, stop = g + w, frames - g - w
    for t in inside:
        window = bump[max(first, t - h) : min(stop, t + h + 1)]
        x[t] = bump[t] / np.sqrt(np.maximum((window**2).mean(axis=0), 1.0))
    return np.clip(x, -trigger.cap, trigger.cap)


def _reference_z(trigger: TrackStackTrigger, x: np.ndarray, t: int, row: int, col: int):
    def stack(end: int, track) -> float:
        total = 0.0
        for back, (dr, dc) in enumerate(track):
            r, c = row - dr, col - dc
            if 0 <= r < 48 and 0 <= c < 48:
                total += x[end - back, r, c]
        return total

    d = trigger.recurrence
    best = max(
        stack(t, track) - max(stack(t - d, track), stack(t + d, track))
        for track in trigger.offsets()
    )
    return best / np.sqrt(trigger.frames)


def test_bumps_and_stacks_equal_the_reference():
    raw = _sky(60, 1)
    raw[20:24, 10, 10] += 3_000  # a bump past the cap
    raw[:, 30, 30] = 0  # a dead pixel: its spread floors at 1
    x = SMALL.validate().bumps(raw)
    expected = _reference_bumps(SMALL, raw)
    np.testing.assert_allclose(x, expected, rtol=2e-5, atol=2e-5)
    assert x.max() == SMALL.cap and (x[:, 30, 30] == 0).all()
    z = SMALL.significance(raw)
    rng = np.random.default_rng(2)
    first = SMALL.margin + SMALL.frames - 1 + SMALL.recurrence
    last = len(raw) - 1 - SMALL.margin - SMALL.recurrence
    points = [(first, 0, 0), (last, 47, 47), (23, 10, 10), (25, 11, 12)]
    drawn = (rng.integers(first, last + 1, 40), rng.integers(0, 48, 40), rng.integers(0, 48, 40))
    points += [(int(t), int(r), int(c)) for t, r, c in zip(*drawn, strict=True)]
    for t, r, c in points:
        assert z[t, r, c] == pytest.approx(_reference_z(SMALL, expected, t, r, c), abs=1e-4)
    assert np.isnan(z[:first]).all() and np.isnan(z[last + 1 :]).all()
    assert np.isfinite(z[first : last + 1]).all()


def test_offsets_round_halves_away_from_zero():
    trigger = TrackStackTrigger(frames=5, speeds=(0.5,), directions=4)
    offsets = trigger.offsets()
    np.testing.assert_array_equal(offsets[0, :, 1], [0, 1, 1, 2, 2])  # 0°: +columns
    np.testing.assert_array_equal(offsets[2, :, 1], [0, -1, -1, -2, -2])  # 180°
    np.testing.assert_array_equal(offsets[1, :, 0], [0, 1, 1, 2, 2])  # 90°: +rows
    assert np.abs(offsets[0, :, 0]).max() == 0


def _meteor(raw: np.ndarray, start: int, row: float, col: float, velocity, frames: int, counts):
    """Light of ``counts`` per frame moving from (row, col) at ``velocity`` (px per frame)."""
    for k in range(frames):
        r, c = int(round(row + velocity[0] * k)), int(round(col + velocity[1] * k))
        raw[start + k, r, c] += counts


def test_a_meteor_stands_out_where_its_track_ends():
    trigger = TrackStackTrigger().validate()
    raw = _sky(200, 3)
    # 600 counts a frame on a 10,000-count sky (6 σ a frame), 16 frames at 0.25 px a frame
    _meteor(raw, 80, 20.0, 10.0, (0.0, 0.25), 16, 600)
    z = trigger.significance(raw)
    t, r, c = np.unravel_index(np.nanargmax(z), z.shape)
    assert abs(t - 95) <= 3 and r == 20 and abs(c - 14) <= 1  # the track's end, 3 frames
    away = np.abs(np.arange(200) - 95)[:, None, None] > 40
    assert z[t, r, c] > np.nanmax(np.where(away, z, np.nan)) + 2.0


def test_excluded_pixels_add_nothing_and_have_no_score():
    trigger = TrackStackTrigger().validate()
    raw = _sky(200, 3)
    _meteor(raw, 80, 20.0, 10.0, (0.0, 0.25), 16, 600)  # columns 10…14, frames 80…95
    excluded = np.zeros((48, 48), bool)
    excluded[20, 8:13] = True  # the track's first 12 frames
    z = trigger.significance(raw, excluded)
    assert np.isnan(z[:, excluded]).all()
    assert np.isfinite(z[60:150, ~excluded]).all()
    end = np.s_[90:100, 19:22, 13:16]  # where the track ends, on pixels not excluded
    whole = np.nanmax(trigger.significance(raw)[end])
    # the last 4 frames of light are all that is left: ≤ √(4 / K) of the whole, and noise
    assert np.nanmax(z[end]) < whole * np.sqrt(4 / trigger.frames) + 2.0 < whole


def test_z_reads_exactly_latency_frames_past_the_track():
    """Z at a track's last frame t changes with the raw counts of frame t + latency and not
    with those of any later frame."""
    raw = _sky(120, 7)
    t = 50
    z = SMALL.significance(raw)[t]
    changed = []
    for ahead in (SMALL.latency, SMALL.latency + 1, SMALL.latency + 2):
        bright = raw.copy()
        bright[t + ahead] += 5_000  # 50 σ a pixel
        changed.append(np.nanmax(np.abs(SMALL.significance(bright)[t] - z)) > 0)
    assert changed == [True, False, False]
    assert TrackStackTrigger().latency == 66  # 10 + 40 + 16


@pytest.mark.parametrize(
    "field, value",
    [("frames", 1), ("gap", -1), ("width", 0), ("speeds", ()), ("speeds", (0.0,)), ("cap", 0.0)],
)
def test_bad_settings_are_refused(field, value):
    with pytest.raises(ValueError, match="track stack"):
        TrackStackTrigger(**{field: value}).validate()


@pytest.mark.parametrize("frames", [1, SMALL.frames - 1, SMALL.margin * 2 + SMALL.frames])
def test_a_movie_too_short_has_no_score(frames):
    z = SMALL.significance(_sky(frames, 6))
    assert z.shape == (frames, 48, 48) and np.isnan(z).all()
