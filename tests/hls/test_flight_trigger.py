# amaranth: UnusedElaboratable=no
"""The flight trigger (``hls/flight_trigger.py``: the trigger core and the track stack trigger
with the stack–gate coincidence, on one stream) in Amaranth's simulator, a small core on 3 × 3
pixels: every output equals its software exactly (the network's scores and triggers and the
gate's two bits: ``CoreReference``; Z: the integer twin; the coincidence: ``coincident`` on the
twin's Z and the core's low gate bits; the frame's first and last pixel marked), with excluded
pixels (set when built, or written through the one mask port both designs share) and both
outputs stalled at random; a pixel takes no more than the slower design's worst clocks."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from tests.flight_scenario import (
    LANES,
    REACH,
    SIDE,
    excluded_pixels,
    small_flight,
    small_golden,
    small_raw,
    thresholds,
)
from tests.stack_skies import SMALL
from uvhunt.firmware_tests.core_reference import CoreReference
from uvhunt.firmware_tests.flight_reference import (
    CORE_FIELDS,
    STACK_FIELDS,
    expected_flight,
    flight_mismatches,
)
from uvhunt.hls.core_build import core_model, cycles_per_pixel
from uvhunt.quant.preprocess import Preprocessing


def _stream(flight, raw, held, stall_seed, excluded=None):
    """(core beats, stack beats, clocks between beats in) for ``raw`` (frames, pixels); both
    outputs ready half the time at random (``stall_seed``), or always (None); ``excluded``
    (pixels,) bools written through the mask port, one a clock, before the first beat."""
    frames, pixels = raw.shape
    rng = np.random.default_rng(stall_seed)
    core_beats, stack_beats, taken = [], [], []
    sim = Simulator(flight)
    sim.add_clock(1e-8)

    async def producer(ctx):
        for name, value in held.items():
            ctx.set(getattr(flight, name), value)
        for pixel, bit in enumerate(excluded if excluded is not None else []):
            ctx.set(flight.mask_we, 1)
            ctx.set(flight.mask_addr, pixel)
            ctx.set(flight.mask_data, int(bit))
            await ctx.tick()
        ctx.set(flight.mask_we, 0)
        clock = 0
        for t in range(frames):
            for p in range(pixels):
                ctx.set(flight.s_tdata, int(raw[t, p]))
                ctx.set(flight.s_tuser, int(p == 0))
                ctx.set(flight.s_tvalid, 1)
                while True:
                    *_, ready = await ctx.tick().sample(flight.s_tready)
                    clock += 1
                    if ready:
                        break
                taken.append(clock)
                ctx.set(flight.s_tvalid, 0)

    def consumer(valid, ready, ports, beats):
        async def run(ctx):
            watched = [getattr(flight, name) for name in ports]
            while len(beats) < frames * pixels:
                go = 1 if stall_seed is None else int(rng.random() < 0.5)
                ctx.set(getattr(flight, ready), go)
                sampled = await ctx.tick().sample(getattr(flight, valid), *watched)
                if sampled[-len(watched) - 1] and go:
                    beats.append(sampled[-len(watched) :])

        return run

    sim.add_testbench(producer)
    sim.add_testbench(consumer("m_tvalid", "m_tready", CORE_FIELDS, core_beats))
    sim.add_testbench(consumer("m_stack_tvalid", "m_stack_tready", STACK_FIELDS, stack_beats))
    sim.run()
    shape = (frames, pixels, -1)
    pace = np.diff(np.array(taken, np.int64), prepend=0).reshape(frames, pixels)
    return np.array(core_beats).reshape(shape), np.array(stack_beats).reshape(shape), pace


@pytest.fixture(scope="module")
def golden():
    return small_golden()


@pytest.mark.parametrize("stall_seed", [None, 6])
def test_the_flight_trigger_equals_its_software_on_one_stream(golden, stall_seed):
    raw, excluded, preprocessing = small_raw(), excluded_pixels(), Preprocessing()
    built = excluded if stall_seed is None else None  # else written through the one port
    flight = small_flight(golden, built)
    stack = flight.stack
    reference = CoreReference(golden, preprocessing)
    held = thresholds(reference, raw, excluded)
    core_beats, stack_beats, pace = _stream(
        flight, raw, held, stall_seed, None if stall_seed is None else excluded
    )
    expected = expected_flight(
        reference, SMALL, SIDE, stack.lag, stack.first_z, REACH, raw, held, excluded
    )
    assert flight_mismatches(expected, core_beats, stack_beats) == dict.fromkeys(
        CORE_FIELDS + STACK_FIELDS, 0
    )
    # the stimulus reaches what matters: triggers of each kind, and coincidences both ways
    reached = expected.triggers
    assert reached["m_trig"] and reached["m_gate_trig"] and reached["m_stack_trig"]
    above = expected.stack["m_z_valid"] & (expected.stack["m_z"] > held["coincidence_threshold"])
    assert 0 < reached["m_coinc"] < above.sum()
    if stall_seed is None:  # once both work, a pixel takes no more than the slower one's worst
        worst = max(
            stack.worst_clocks_per_pixel, cycles_per_pixel(core_model(golden, preprocessing), LANES)
        )
        assert pace[50:].max() <= worst
