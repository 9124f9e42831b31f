# amaranth: UnusedElaboratable=no
"""The stack–gate coincidence in hardware (``hls/stack_coincidence.py``) in Amaranth's
simulator: its bit equals ``detection.stack_coincidence.coincident`` on the same Z and gate
bits exactly, at the shortest lag it allows and at the track stack's, at the focal surface's
edges and corners, at the frame window's both ends, with Z equal to the threshold, with stalls
and after a reset mid-stream; the Z it carries on is the one it took."""

import numpy as np
import pytest
from amaranth.hdl import ClockDomain, Module
from amaranth.sim import Simulator

from uvhunt.detection.stack_coincidence import FRAMES
from uvhunt.firmware_tests.coincidence_reference import coincidence_bits
from uvhunt.hls.stack_coincidence import StackCoincidence
from uvhunt.sim.stack_stream import stream_frames

Z_BITS = 8


def _streams(frames: int, side: int, lag: int, seed: int):
    """(gate bits, Z, Z valid), each (frames, side²), and the threshold: sparse gate bits (hot
    spots where a few pixels fire in runs, to reach the window's ends), Z around the threshold
    (ties included), Z not valid at random and in the first lag frames."""
    rng = np.random.default_rng(seed)
    pixels = side * side
    gate = rng.random((frames, pixels)) < 0.004
    for _ in range(3):  # a pixel firing a few frames running, as a lit bump does
        start, pixel = rng.integers(0, frames - 4), rng.integers(0, pixels)
        gate[start : start + rng.integers(1, 4), pixel] = True
    threshold = 20
    z = rng.integers(threshold - 3, threshold + 4, (frames, pixels))
    z_valid = rng.random((frames, pixels)) < 0.9
    z_valid[:lag] = False
    return gate, z, z_valid, threshold


def _expected(gate, z, z_valid, threshold, side, lag):
    """The coincidence's bit (frames, side²) of ``coincident`` on the beats' Z above
    ``threshold`` (frame f − lag at the beat of f) and gate bits (frame f)."""
    return coincidence_bits(z_valid & (z > threshold), gate, side, lag)


@pytest.mark.parametrize(
    ("side", "lag", "frames", "stall_seed"),
    [(5, FRAMES + 1, 40, None), (6, 66, 110, 3)],
)
def test_the_coincidence_core_equals_the_software_coincidence(side, lag, frames, stall_seed):
    """Random streams at the shortest lag the core allows (FRAMES + 1, the gate's bits of the
    window's last frame just in) and at the track stack's default lag (66), on a 5 × 5 and a
    6 × 6 focal surface, with and without stalls: m_coinc is ``coincident``'s answer for every
    beat, and m_z, m_z_valid the beat's own (the window's ends and the edges: the next
    test)."""
    gate, z, z_valid, threshold = _streams(frames, side, lag, seed=side)
    core = StackCoincidence(side, lag, Z_BITS)
    values = np.stack([gate, z, z_valid], axis=-1).astype(np.int64)
    beats, pace = stream_frames(
        core,
        values,
        ("s_gate", "s_z", "s_z_valid"),
        ("m_z", "m_z_valid", "m_coinc"),
        stall_seed,
        held={"threshold": threshold},
    )
    want = _expected(gate, z, z_valid, threshold, side, lag)
    np.testing.assert_array_equal(beats[..., 0], z)
    np.testing.assert_array_equal(beats[..., 1], z_valid)
    np.testing.assert_array_equal(beats[..., 2], want)
    # the test reaches what it claims: coincidences, and Z equal to the threshold
    assert want.sum() >= 10 and not want[~(z_valid & (z > threshold))].any()
    assert ((z == threshold) & z_valid).any()
    if stall_seed is None:
        assert (pace[1:] == core.clocks_per_pixel).all()


def test_the_coincidence_core_reaches_exactly_its_frames_and_pixels():
    """Gate bits at the centre, at a corner and at both ends of a row of the focal surface; Z
    above the threshold everywhere: the coincidence holds exactly at the pixels within a row
    and column and the frames within FRAMES of each, no further (the window's ends; no
    neighbour wrapped round a row's end to the other side, as a flat pixel index ± 1 would)."""
    side, lag, frames = 5, FRAMES + 2, 100
    gate = np.zeros((frames, side * side), bool)
    gate[FRAMES, 2 * side + 2] = True  # the centre, in frame FRAMES
    gate[FRAMES, 2 * side - 1] = True  # row 1's end, (1, 4), in the same frame
    gate[2 * FRAMES + 10, side * side - 1] = True  # the last corner
    late = 80  # row 1's start, (1, 0), alone in its frames
    gate[late, side] = True
    z = np.full(gate.shape, 5)
    z_valid = np.ones(gate.shape, bool)
    z_valid[:lag] = False
    core = StackCoincidence(side, lag, Z_BITS)
    beats, _ = stream_frames(
        core,
        np.stack([gate, z, z_valid], axis=-1).astype(np.int64),
        ("s_gate", "s_z", "s_z_valid"),
        ("m_coinc",),
        held={"threshold": 4},
    )
    want = _expected(gate, z, z_valid, 4, side, lag)
    np.testing.assert_array_equal(beats[..., 0], want)
    early = want[: late - FRAMES + lag]  # the beats whose Z frames the late bit cannot reach
    centre = early[:, [side + 1, side + 2, side + 3, 2 * side + 1, 2 * side + 3, 3 * side + 2]]
    # Z frames 0 … 2·FRAMES see the centre's bit (beats lag … lag + 2·FRAMES), no others
    assert centre[lag : lag + 2 * FRAMES + 1].all() and not centre[lag + 2 * FRAMES + 1 :].any()
    assert want[:, side * side - 2].any()  # the corner's neighbour on its row
    # (1, 4)'s bit: (0, 3) fires; (1, 0), (2, 0), (3, 0), flat ± 1 from it, never do
    assert early[:, side - 2].any() and not early[:, [side, 2 * side, 3 * side]].any()
    # (1, 0)'s bit: (2, 0) fires; (0, 4) and (1, 4), flat ± 1 from it, do not
    tail = want[late - FRAMES + lag :]
    assert tail[:, 2 * side].any() and not tail[:, [side - 1, 2 * side - 1]].any()


def _after_one_frame(reset: bool) -> list[int]:
    """m_coinc of each beat of lag + 1 frames (3 × 3 pixels, lag FRAMES + 1) that follow one
    frame whose centre pixel's gate bit is set, with or without a reset between them; Z valid
    and above the threshold only in the last frame (Z of its frame 0)."""
    side, lag = 3, FRAMES + 1
    core = StackCoincidence(side, lag, Z_BITS)
    out = []

    async def bench(ctx):
        ctx.set(core.threshold, 0)
        ctx.set(core.m_tready, 1)
        ctx.set(core.s_z, 1)

        async def frame(gate: bool, z_valid: bool):
            for pixel in range(side * side):
                ctx.set(core.s_tvalid, 1)
                ctx.set(core.s_tuser, int(pixel == 0))
                ctx.set(core.s_gate, int(gate and pixel == 4))
                ctx.set(core.s_z_valid, int(z_valid))
                await ctx.tick().until(core.s_tready)
                ctx.set(core.s_tvalid, 0)
                *_, coinc = await ctx.tick().sample(core.m_coinc).until(core.m_tvalid)
                out.append(coinc)

        await frame(gate=True, z_valid=False)
        if reset:
            ctx.set(domain.rst, 1)
            await ctx.tick()
            ctx.set(domain.rst, 0)
        out.clear()
        for index in range(lag + 1):
            await frame(gate=False, z_valid=index == lag)

    top = Module()
    top.submodules.core = core
    top.domains.sync = domain = ClockDomain("sync")  # its reset driven by the bench
    sim = Simulator(top)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return out


def test_the_coincidence_core_forgets_the_frames_before_a_reset():
    """A gate bit in the frame before a reset and Z a lag later: no coincidence (the words are
    cleared at reset, as ``coincident`` on the movie that starts there); without the reset the
    same bit, FRAMES − 1… frames before the Z's frame … coincides at every pixel."""
    kept, cleared = _after_one_frame(reset=False), _after_one_frame(reset=True)
    assert len(kept) == len(cleared) == 9 * (FRAMES + 2)
    assert kept[-9:] == [1] * 9 and not any(kept[:-9])
    assert not any(cleared)


def test_the_coincidence_core_refuses_a_lag_its_window_outruns():
    """Z must leave more than FRAMES frames after its frame, or the gate's bits of the
    window's last frames would not be in yet."""
    with pytest.raises(ValueError, match="more than 16 frames"):
        StackCoincidence(4, FRAMES, Z_BITS)
