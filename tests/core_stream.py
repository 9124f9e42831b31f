"""Streams frames through a trigger core in Amaranth's simulator (for small cores, a few
pixels): the one driver of the core tests that need no Verilator."""

import numpy as np
from amaranth.sim import Simulator

from uvhunt.firmware_tests.core_reference import GATE_NEVER


def stream_beats(
    core,
    raw: np.ndarray,
    thresholds: np.ndarray,
    ports: tuple[str, ...],
    gate_thresholds: np.ndarray | None = None,
    writes_before: dict[int, list[tuple[int, int]]] | None = None,
    gate_low_thresholds: np.ndarray | None = None,
) -> np.ndarray:
    """The output ``ports`` (frames, pixels, len(ports)) for every beat of ``raw`` (frames,
    pixels) streamed through ``core``, a beat at a time; ``thresholds[t]``,
    ``gate_thresholds[t]`` and ``gate_low_thresholds[t]`` (the gate's: default never) during
    frame ``t``; ``writes_before[t]``: (pixel, bit) mask writes before frame ``t``."""
    frames, pixels = raw.shape
    never = np.full(frames, GATE_NEVER)
    gate_thresholds = never if gate_thresholds is None else gate_thresholds
    gate_low_thresholds = never if gate_low_thresholds is None else gate_low_thresholds
    beats = []
    sim = Simulator(core)
    sim.add_clock(1e-8)

    async def bench(ctx):
        ctx.set(core.m_tready, 1)
        for t in range(frames):
            for pixel, bit in (writes_before or {}).get(t, []):
                ctx.set(core.mask_we, 1)
                ctx.set(core.mask_addr, pixel)
                ctx.set(core.mask_data, bit)
                await ctx.tick()
            ctx.set(core.mask_we, 0)
            ctx.set(core.threshold, int(thresholds[t]))
            ctx.set(core.gate_threshold, int(gate_thresholds[t]))
            ctx.set(core.gate_low_threshold, int(gate_low_thresholds[t]))
            for p in range(pixels):
                ctx.set(core.s_tdata, int(raw[t, p]))
                ctx.set(core.s_tuser, int(p == 0))
                ctx.set(core.s_tvalid, 1)
                while not ctx.get(core.s_tready):
                    await ctx.tick()
                await ctx.tick()
                ctx.set(core.s_tvalid, 0)
                while not ctx.get(core.m_tvalid):
                    await ctx.tick()
                beats.append([ctx.get(getattr(core, port)) for port in ports])
                await ctx.tick()

    sim.add_testbench(bench)
    sim.run()
    return np.array(beats, np.int64).reshape(frames, pixels, len(ports))
