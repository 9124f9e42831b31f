"""Streams raw D3 counts through the track stack's bumps core (``hls/stack_bumps.py``) in
Amaranth's simulator, a beat at a time: the one driver of its tests and its benchmark."""

import numpy as np
from amaranth.sim import Simulator

from uvhunt.hls.stack_bumps import StackBumps


def stream_bumps(
    core: StackBumps, raw: np.ndarray, stall_seed: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, x valid, clocks), each (frames, pixels), for ``raw`` (frames, pixels) raw counts
    streamed through ``core``: x out at the beat of each input pixel (x of frame t − lag);
    clocks from one accepted input beat to the next (the core's pace when nothing stalls).
    With ``stall_seed``, the input waits 0–2 clocks and the output is not ready half the
    time, at random."""
    frames, pixels = raw.shape
    rng = np.random.default_rng(stall_seed)
    out = []
    sim = Simulator(core)
    sim.add_clock(1e-8)

    async def bench(ctx):
        clock = accepted = 0
        for t in range(frames):
            for p in range(pixels):
                for _ in range(rng.integers(0, 3) if stall_seed is not None else 0):
                    await ctx.tick()
                    clock += 1
                ctx.set(core.s_tdata, int(raw[t, p]))
                ctx.set(core.s_tuser, int(p == 0))
                ctx.set(core.s_tvalid, 1)
                while not ctx.get(core.s_tready):
                    await ctx.tick()
                    clock += 1
                pace, accepted = clock - accepted, clock
                await ctx.tick()
                clock += 1
                ctx.set(core.s_tvalid, 0)
                while True:
                    ready = int(stall_seed is None or rng.random() < 0.5)
                    ctx.set(core.m_tready, ready)
                    if ready and ctx.get(core.m_tvalid):
                        break
                    await ctx.tick()
                    clock += 1
                out.append(
                    (ctx.get(core.m_x), ctx.get(core.m_x_valid), ctx.get(core.m_tuser), pace)
                )
                await ctx.tick()
                clock += 1
                ctx.set(core.m_tready, 0)

    sim.add_testbench(bench)
    sim.run()
    beats = np.array(out, np.int64).reshape(frames, pixels, 4)
    if not np.array_equal(beats[..., 2], np.tile(np.arange(pixels) == 0, (frames, 1))):
        raise AssertionError("the core's m_tuser does not mark pixel 0 of each frame")
    return beats[..., 0], beats[..., 1], beats[..., 3]
