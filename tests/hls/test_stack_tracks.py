# amaranth: UnusedElaboratable=no
"""The track stack's tracks in hardware (``hls/stack_tracks.py``) in Amaranth's simulator, on
a small focal surface: every Z equals the integer twin's (``IntegerTrackStack.best_kept``)
exactly, for small settings with the stream stalled at random and for the twin's defaults
(64 velocities, K 11, D 10); and the two cores chained (``hls/stack_trigger.py``), raw counts
to Z and a trigger bit, equal the twin's ``stacked`` scores."""

import dataclasses

import numpy as np
import pytest

from tests.hls.test_stack_bumps import CASES, nasty_sky
from uvhunt.detection.track_stack_integer import NO_SCORE, IntegerTrackStack
from uvhunt.hls.stack_tracks import StackTracks
from uvhunt.hls.stack_trigger import StackTrigger
from uvhunt.sim.stack_stream import stream_tracks, stream_trigger

SMALL = dataclasses.replace(
    CASES["small windows, narrow words"][0],
    frames=4,
    recurrence=2,
    speeds=(0.5, 1.0),
    directions=4,
)
"""Eight velocities whose offsets reach 3 pixels, over 4 frames; the bumps of the small case
of the bumps core's test."""


def extreme_bumps(stack: IntegerTrackStack, frames: int, side: int, seed: int) -> np.ndarray:
    """x (frames, 48, 48), zero beyond the ``side`` × ``side`` corner: random from −limit to
    +limit, but +limit in the K frames up to the first frame t0 with a score, and −limit in
    the K frames up to t0 − D and up to t0 + D beside them (the stacks at their widest, and
    Z(t0) near 2K·limit)."""
    k, d, limit = stack.frames, stack.recurrence, stack.limit
    t0 = k - 1 + d + 1
    rng = np.random.default_rng(seed)
    x = np.zeros((frames, 48, 48), np.int32)
    x[:, :side, :side] = rng.integers(-limit, limit + 1, (frames, side, side))
    x[t0 - d - k + 1 : t0 - d + 1, :side, :side] = -limit
    x[t0 + d - k + 1 : t0 + d + 1, :side, :side] = -limit
    x[t0 - k + 1 : t0 + 1, :side, :side] = limit
    return x


def compare(stack: IntegerTrackStack, side: int, frames: int, stall_seed: int | None):
    x = extreme_bumps(stack, frames, side, seed=4)
    core = StackTracks.for_stack(stack, side)
    z, valid, pace = stream_tracks(core, x[:, :side, :side].reshape(frames, -1), stall_seed)
    want = stack.best_kept(x)[:, :side, :side].reshape(frames, -1)
    first = stack.frames - 1 + 2 * stack.recurrence  # the first input frame with a Z
    np.testing.assert_array_equal(valid, np.tile(np.arange(frames)[:, None] >= first, side**2))
    np.testing.assert_array_equal(z[first:], want[first - stack.recurrence : -stack.recurrence])
    assert z[first:].max() >= stack.frames * stack.limit  # the stacks at their widest
    return core, pace, first


def test_the_tracks_core_equals_the_integer_twin_with_stalls():
    compare(SMALL, side=5, frames=24, stall_seed=3)


def test_the_tracks_core_equals_the_twin_at_its_defaults_and_takes_its_worst_clocks():
    stack = IntegerTrackStack()
    core, pace, first = compare(stack, side=4, frames=34, stall_seed=None)
    assert core.V == 64 and core.K == 11 and core.D == 10
    np.testing.assert_array_equal(pace[1:], core.worst_clocks_per_pixel)


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


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"offsets": np.zeros((4, 3))}, "velocities, K, 2"),
        ({"offsets": np.zeros((4, 3, 2), int), "side": 49}, "side"),
        ({"offsets": np.zeros((4, 12, 2), int), "recurrence": 11}, "ring"),
    ],
)
def test_the_tracks_core_refuses_what_it_cannot_build(arguments, message):
    with pytest.raises(ValueError, match=message):
        StackTracks(**arguments)


def test_the_track_stack_trigger_keeps_the_pace_of_its_slower_core():
    """At the defaults the two cores overlap: once both work, a pixel takes the tracks core's
    clocks exactly (the bumps core's fewer are hidden), the figure the real-time margin is
    worked out from."""
    trigger = StackTrigger.for_stack(IntegerTrackStack(), 2)
    raw = np.random.default_rng(0).integers(0, 5_000, (6, 4))
    pace = stream_trigger(trigger, raw, threshold=0)[3].reshape(-1)
    assert trigger.tracks.worst_clocks_per_pixel > trigger.bumps.worst_clocks_per_pixel
    np.testing.assert_array_equal(pace[2:], trigger.tracks.worst_clocks_per_pixel)
