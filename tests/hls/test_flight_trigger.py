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

from tests.golden_models import random_golden
from tests.stack_skies import SMALL, nasty_sky
from uvhunt.detection.track_stack_integer import NO_SCORE
from uvhunt.firmware_tests.coincidence_reference import coincidence_bits
from uvhunt.firmware_tests.core_reference import CoreReference
from uvhunt.hls.core_build import core_model, cycles_per_pixel, make_core
from uvhunt.hls.flight_trigger import FlightTrigger
from uvhunt.hls.stack_trigger import StackTrigger
from uvhunt.quant.preprocess import Preprocessing

SIDE, FRAMES = 3, 66
REACH = (4, 1)
"""The coincidence's frames and pixels (the small stack's Z leaves 8 frames after its frame)."""
CORE_PORTS = (
    "m_score",
    "m_trig",
    "m_window_valid",
    "m_gate_trig",
    "m_gate_low",
    "m_tuser",
    "m_tlast",
)
STACK_PORTS = ("m_z", "m_z_valid", "m_stack_trig", "m_coinc", "m_stack_tuser")


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
    sim.add_testbench(consumer("m_tvalid", "m_tready", CORE_PORTS, core_beats))
    sim.add_testbench(consumer("m_stack_tvalid", "m_stack_tready", STACK_PORTS, stack_beats))
    sim.run()
    shape = (frames, pixels, -1)
    pace = np.diff(np.array(taken, np.int64), prepend=0).reshape(frames, pixels)
    return np.array(core_beats).reshape(shape), np.array(stack_beats).reshape(shape), pace


@pytest.fixture(scope="module")
def golden():
    return random_golden((48, 4, 4, 1), 5, 8, (6, 3), seed=11)


@pytest.mark.parametrize("stall_seed", [None, 6])
def test_the_flight_trigger_equals_its_software_on_one_stream(golden, stall_seed):
    pixels = SIDE * SIDE
    raw48 = np.zeros((FRAMES, 48, 48), np.int64)
    raw48[:, :SIDE, :SIDE] = nasty_sky(FRAMES, pixels, SMALL, seed=2).reshape(FRAMES, SIDE, SIDE)
    raw = raw48[:, :SIDE, :SIDE].reshape(FRAMES, pixels)
    excluded = np.zeros(pixels, bool)
    excluded[[4, 7]] = True
    excluded48 = np.zeros((48, 48), bool)
    excluded48[:SIDE, :SIDE] = excluded.reshape(SIDE, SIDE)
    preprocessing = Preprocessing()
    built = excluded if stall_seed is None else None  # else written through the one port
    core = make_core(core_model(golden, preprocessing), pixels, 2, built)
    stack = StackTrigger.for_stack(SMALL, SIDE, built, coincidence=REACH)
    flight = FlightTrigger(core, stack)
    reference = CoreReference(golden, preprocessing)
    codes = reference.gate_parts(raw)[3]
    positive = codes[codes >= 0]
    z_twin = SMALL.stacked(raw48, excluded48, NO_SCORE, np.int32)[:, :SIDE, :SIDE]
    z_twin = z_twin.reshape(FRAMES, pixels)
    scored = z_twin[z_twin != NO_SCORE]
    held = {
        "threshold": int(np.median(reference.scores(raw)[47:])),
        "gate_threshold": int(np.quantile(positive, 0.9)),
        "gate_low_threshold": int(np.quantile(positive, 0.5)),
        "stack_threshold": int(np.quantile(scored, 0.9)),
        "coincidence_threshold": int(np.quantile(scored, 0.5)),
    }
    core_beats, stack_beats, pace = _stream(
        flight, raw, held, stall_seed, None if stall_seed is None else excluded
    )

    every = np.ones(FRAMES, np.int64)
    want = reference.expected(
        raw,
        every * held["threshold"],
        excluded,
        every * held["gate_threshold"],
        every * held["gate_low_threshold"],
    )
    score, trig, window_valid, gate_trig, gate_low, first_pixel, last_pixel = np.moveaxis(
        core_beats, -1, 0
    )
    marks = np.arange(pixels)
    np.testing.assert_array_equal(first_pixel, np.tile(marks == 0, (FRAMES, 1)))
    np.testing.assert_array_equal(last_pixel, np.tile(marks == pixels - 1, (FRAMES, 1)))
    live = want.window_valid
    np.testing.assert_array_equal(score[live], want.score[live])
    np.testing.assert_array_equal(trig, want.trigger)
    np.testing.assert_array_equal(window_valid, np.tile(live[:, None], pixels))
    np.testing.assert_array_equal(gate_trig, want.gate_trigger)
    np.testing.assert_array_equal(gate_low, want.gate_low)

    z, z_valid, stack_trig, coinc, stack_first = np.moveaxis(stack_beats, -1, 0)
    np.testing.assert_array_equal(stack_first, np.tile(marks == 0, (FRAMES, 1)))
    first, lag = stack.first_z, stack.lag
    np.testing.assert_array_equal(z_valid[:first], 0)
    np.testing.assert_array_equal(z_valid[first:], np.tile(~excluded, (FRAMES - first, 1)))
    z_want = z_twin[first - lag : FRAMES - lag]
    np.testing.assert_array_equal(z[first:, ~excluded], z_want[:, ~excluded])
    np.testing.assert_array_equal(stack_trig, (z > held["stack_threshold"]) & (z_valid == 1))
    above = np.zeros(z.shape, bool)  # Z above the coincidence's threshold, from the twin
    above[first:] = (z_valid[first:] == 1) & (z_want > held["coincidence_threshold"])
    expected = coincidence_bits(above, want.gate_low, SIDE, lag, *REACH)
    np.testing.assert_array_equal(coinc, expected)
    # the stimulus reaches what matters: triggers of each kind, and coincidences both ways
    assert want.trigger.any() and want.gate_trigger.any() and stack_trig.any()
    assert 0 < expected.sum() < above.sum()
    if stall_seed is None:  # once both work, a pixel takes no more than the slower one's worst
        worst = max(
            stack.worst_clocks_per_pixel, cycles_per_pixel(core_model(golden, preprocessing), 2)
        )
        assert pace[50:].max() <= worst
