# amaranth: UnusedElaboratable=no
"""The track stack's tracks in hardware (``hls/stack_tracks.py``) in Amaranth's simulator, on
a small focal surface: every Z equals the integer twin's (``IntegerTrackStack.best_kept``)
exactly, for small settings with the stream stalled at random and for the twin's defaults
(64 velocities, K 11, D 10)."""

import numpy as np
import pytest

from tests.stack_skies import SMALL
from uvhunt.detection.track_stack_integer import IntegerTrackStack
from uvhunt.hls.stack_tracks import StackTracks
from uvhunt.sim.stack_stream import stream_tracks


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


def test_the_tracks_core_refuses_tracks_that_do_not_start_at_their_pixel():
    offsets = np.zeros((4, 3, 2), int)
    offsets[1, 0] = (0, 1)
    with pytest.raises(ValueError, match="own pixel"):
        StackTracks(offsets)
