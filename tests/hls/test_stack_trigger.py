# amaranth: UnusedElaboratable=no
"""The track stack trigger in hardware (``hls/stack_trigger.py``: the bumps core streaming into
the tracks core) in Amaranth's simulator: from raw counts, Z equals the integer twin's
``IntegerTrackStack.stacked`` exactly, with and without excluded pixels, and the trigger bit
is Z above the threshold; the chain keeps the pace of its slower core."""

import numpy as np
import pytest

from tests.stack_skies import SMALL, nasty_sky
from uvhunt.detection.track_stack_integer import NO_SCORE, IntegerTrackStack
from uvhunt.firmware_tests.coincidence_reference import coincidence_bits
from uvhunt.hls.stack_trigger import StackTrigger
from uvhunt.sim.stack_stream import stream_frames, stream_trigger


@pytest.mark.parametrize("mask_by", ["none", "initial value", "writes"])
def test_the_track_stack_trigger_gives_the_twins_scores_and_triggers_above_its_threshold(mask_by):
    """Raw counts into the two cores chained (``StackTrigger``): Z equals
    ``IntegerTrackStack.stacked`` wherever the twin scores a frame the chain reaches, valid
    from the first frame whose x all came from whole windows and at pixels not excluded (the
    mask as built, or written before the stream); the trigger bit is Z above the threshold,
    and a Z equal to it (which occurs) does not trigger."""
    side, frames = 5, 36
    raw = np.zeros((frames, 48, 48), np.int64)
    sky = nasty_sky(frames, side * side, SMALL, seed=9)
    raw[:, :side, :side] = sky[:, np.random.default_rng(9).permutation(side * side)].reshape(
        frames, side, side
    )
    excluded = np.zeros((48, 48), bool)
    if mask_by != "none":
        excluded[:side, :side] = np.random.default_rng(3).random((side, side)) < 0.25
        excluded[0, 0] = excluded[2, 3] = True
    want = SMALL.stacked(raw, excluded, NO_SCORE, np.int32)[:, :side, :side].reshape(frames, -1)
    flat = excluded[:side, :side].reshape(-1)
    trigger = StackTrigger.for_stack(SMALL, side, flat if mask_by == "initial value" else None)
    threshold = int(np.median(want[want != NO_SCORE]))
    z, valid, fired, _ = stream_trigger(
        trigger,
        raw[:, :side, :side].reshape(frames, -1),
        threshold,
        stall_seed=5,
        excluded=flat if mask_by == "writes" else None,
    )
    first = trigger.first_z  # the first input frame with a Z
    assert first == 2 * SMALL.margin + SMALL.spread + 2 * SMALL.recurrence + SMALL.frames - 1
    in_time = np.tile(np.arange(frames)[:, None] >= first, side**2)
    np.testing.assert_array_equal(valid, in_time & ~flat)
    scored = want[first - trigger.lag : frames - trigger.lag]  # the twin's frames out
    assert first - trigger.lag == SMALL.margin + SMALL.frames - 1 + SMALL.recurrence
    assert (scored[:, ~flat] != NO_SCORE).all() and (scored[:, flat] == NO_SCORE).all()
    np.testing.assert_array_equal(z[first:, ~flat], scored[:, ~flat])
    assert flat.sum() >= 2 or mask_by == "none"
    np.testing.assert_array_equal(fired, (z > threshold) & (valid == 1))
    assert fired.any() and not fired[first:].all() and (z[first:] == threshold).any()


def test_the_track_stack_trigger_with_the_coincidence_equals_the_software_coincidence():
    """With the stack–gate coincidence (4 frames, 1 pixel: the small stack's Z leaves only 8
    frames after its frame), each beat's gate bit in: m_coinc equals ``coincident`` on the
    twin's Z above the coincidence's threshold and the gate bits, with excluded pixels and
    stalls; Z and the trigger bit are as without it."""
    side, frames, reach = 5, 36, (4, 1)
    raw = np.zeros((frames, 48, 48), np.int64)
    raw[:, :side, :side] = nasty_sky(frames, side * side, SMALL, seed=4).reshape(frames, side, side)
    excluded = np.zeros((48, 48), bool)
    excluded[1, 1] = excluded[4, 0] = True
    flat = excluded[:side, :side].reshape(-1)
    want = SMALL.stacked(raw, excluded, NO_SCORE, np.int32)[:, :side, :side].reshape(frames, -1)
    rng = np.random.default_rng(4)
    gate = rng.random((frames, side * side)) < 0.02
    gate[:, flat] = False  # as the trigger core gives them: masked
    trigger = StackTrigger.for_stack(SMALL, side, flat, coincidence=reach)
    scored = want[want != NO_SCORE]
    threshold, low = int(np.quantile(scored, 0.9)), int(np.quantile(scored, 0.5))
    beats, _ = stream_frames(
        trigger,
        np.stack([raw[:, :side, :side].reshape(frames, -1), gate], axis=-1),
        ("s_tdata", "s_gate"),
        ("m_z", "m_z_valid", "m_trig", "m_coinc"),
        stall_seed=8,
        held={"threshold": threshold, "coincidence_threshold": low},
    )
    z, valid, fired, coinc = np.moveaxis(beats, -1, 0)
    first, lag = trigger.first_z, trigger.lag
    np.testing.assert_array_equal(valid[:first], 0)
    np.testing.assert_array_equal(valid[first:], np.tile(~flat, (frames - first, 1)))
    twin = want[first - lag : frames - lag]
    np.testing.assert_array_equal(z[first:, ~flat], twin[:, ~flat])
    np.testing.assert_array_equal(fired, (z > threshold) & (valid == 1))
    above = np.zeros(z.shape, bool)  # the twin's Z above the coincidence's threshold
    above[first:] = ~flat & (twin > low)
    expected = coincidence_bits(above, gate, side, lag, *reach)
    np.testing.assert_array_equal(coinc, expected)
    assert 5 <= expected.sum() < above.sum()


@pytest.mark.parametrize("coincidence", [None, (16, 1)])
def test_the_track_stack_trigger_keeps_the_pace_of_its_slower_core(coincidence):
    """At the defaults the two cores overlap: once both work, a pixel takes the tracks core's
    clocks exactly (the bumps core's fewer are hidden, and the coincidence's after the
    tracks'), the figure the real-time margin is worked out from."""
    trigger = StackTrigger.for_stack(IntegerTrackStack(), 2, coincidence=coincidence)
    raw = np.random.default_rng(0).integers(0, 5_000, (6, 4))
    values, data = raw, "s_tdata"
    if coincidence:
        values, data = np.stack([raw, raw % 2], axis=-1), ("s_tdata", "s_gate")
    _, pace = stream_frames(trigger, values, data, ("m_z",), held={"threshold": 0})
    assert trigger.tracks.worst_clocks_per_pixel > trigger.bumps.worst_clocks_per_pixel
    assert trigger.worst_clocks_per_pixel == trigger.tracks.worst_clocks_per_pixel
    np.testing.assert_array_equal(pace.reshape(-1)[2:], trigger.tracks.worst_clocks_per_pixel)


def test_the_track_stack_trigger_refuses_a_mask_of_the_wrong_size():
    with pytest.raises(ValueError, match="mask"):
        StackTrigger.for_stack(SMALL, 3, [False] * 8)
