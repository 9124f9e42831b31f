"""cocotb tests of the flight trigger ``uvhunt_flight`` (``hls/flight_trigger.py``): one stream
of raw counts in, the trigger core's beats and the stack trigger's beats out, each on its own
handshake. Each test resets the design, writes its excluded pixels through the one mask port,
holds its five thresholds and streams its frames; every output beat of both streams is
compared exactly with ``flight_reference``'s expectation (the golden scoring and the peak
gate's integers, the track stack's integer twin, the coincidence).

``stream_back_to_back``: no gap in the input, both outputs' ready held high.
``stream_stalled``: a partial stream first (outputs taken, not compared), a reset in the middle
of a frame, then the stream with random gaps in ``s_tvalid`` and random back-pressure on both
outputs, and a different mask: nothing from before the reset may show.

A monitor takes a beat only where valid is high at the accepting edge and checks that the
beat held still while it stalled; beats beyond the stream count as mismatches; the driver
fails when the design takes no input for ``STUCK_CLOCKS``.

Paths come from the environment (set by ``uvhunt.stages.flight.cosimulate``):
``UVHUNT_STREAM`` (the cases' arrays, ``flight_reference.case_arrays``), ``UVHUNT_RESULTS``."""

import json
import os
import time
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, RisingEdge, Timer, with_timeout

from uvhunt.firmware_tests.core_testbench import (
    CLOCK_NS,
    cycle,
    packed_unpacker,
    start_clock,
    write_mask,
)
from uvhunt.firmware_tests.flight_reference import (
    CORE_FIELDS,
    HELD,
    STACK_FIELDS,
    flight_mismatches,
    read_case,
)

TESTS = ("stream_back_to_back", "stream_stalled")
CORE_BEAT, STACK_BEAT = "m_core_beat", "m_stack_beat"
PACKED_OUTPUTS = {CORE_BEAT: CORE_FIELDS, STACK_BEAT: STACK_FIELDS}
"""The clocked wrapper's packed signals (``sim.runner.clocked_top``): each stream's beat."""
SIGNED = ("m_score", "m_z")
TAIL_CLOCKS = 200_000
"""Clocks the test waits, at most, for the last outputs after the last input."""
AFTER_CLOCKS = 5_000
"""Clocks the monitors go on watching after the stream's last beats: none may come."""
STUCK_CLOCKS = 100_000
"""Clocks the driver waits, at most, for the design to take a beat (a pixel takes about
1,100 at worst)."""
PARTIAL = 0.4
"""Share of the stream sent before the stalled test's reset (in the middle of a frame)."""


class Collector:
    """Takes the beats of one output stream. Without ``rng``, ``ready`` is held high and a
    beat is taken at each edge where valid is high; with it, ``ready`` is raised for one clock
    per beat after a random delay (probability ``backpressure``), and the beat, sampled when
    valid rose, must hold still until taken (``unstable`` counts those that did not)."""

    def __init__(self, dut, valid, ready, packed, fields, rng=None, backpressure=0.0):
        self.dut, self.rng, self.backpressure = dut, rng, backpressure
        self.unpack = packed_unpacker(dut, packed, fields, SIGNED)
        self.outputs = getattr(dut, packed)
        self.valid, self.ready = getattr(dut, valid), getattr(dut, ready)
        self.beats: list[tuple[int, ...]] = []
        self.unstable = 0

    async def run(self) -> None:
        dut, valid, ready = self.dut, self.valid, self.ready
        rising, falling, valid_rises = RisingEdge(dut.clk), FallingEdge(dut.clk), RisingEdge(valid)
        ready.value = int(self.rng is None)
        while True:  # at a falling edge, where everything has settled
            if valid.value != 1:
                await valid_rises
                await falling
            beat = self.unpack(int(self.outputs.value))
            if self.rng is not None:
                if self.rng.random() < self.backpressure:
                    for _ in range(int(self.rng.integers(1, 6))):
                        await falling
                now = self.unpack(int(self.outputs.value))
                self.unstable += valid.value != 1 or now != beat
                beat = now
                ready.value = 1
            await rising  # taken at this edge (valid and ready both high)
            await falling
            if self.rng is not None:
                ready.value = 0
            self.beats.append(beat)


async def reset(dut) -> None:
    for name in ("s_tvalid", "s_tdata", "s_tuser", "m_tready", "m_stack_tready", "mask_we"):
        getattr(dut, name).value = 0
    dut.rst.value = 1
    for _ in range(2):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0


async def send(dut, raw: np.ndarray, rng, gap: float, beats: int | None = None) -> None:
    """Raw counts, pixel after pixel (the first ``beats`` of them, if given), ``s_tuser`` on
    each frame's first; with probability ``gap`` a pause of 1–3 clocks before a beat. Fails
    if the design takes no beat for ``STUCK_CLOCKS``."""
    ready, valid, data, user = dut.s_tready, dut.s_tvalid, dut.s_tdata, dut.s_tuser
    rising, falling, ready_rises = RisingEdge(dut.clk), FallingEdge(dut.clk), RisingEdge(ready)
    pixels = raw.shape[1]
    values = np.asarray(raw).reshape(-1)[:beats].tolist()
    for index, value in enumerate(values):
        if rng is not None and rng.random() < gap:
            valid.value = 0
            for _ in range(int(rng.integers(1, 4))):
                await falling
        data.value = value
        user.value = int(index % pixels == 0)
        valid.value = 1
        if ready.value != 1:
            await with_timeout(ready_rises, STUCK_CLOCKS * CLOCK_NS, "ns")
            await falling
        await rising  # taken at this edge
        await falling
    valid.value = 0


async def _run(
    dut, name: str, seed: int | None, gap: float = 0.0, backpressure: float = 0.0, partial=0.0
):
    start_clock(dut)
    with np.load(Path(os.environ["UVHUNT_STREAM"])) as data:
        raw, held, excluded, want = read_case(data, name)
    rng = None if seed is None else np.random.default_rng(seed)
    await reset(dut)
    frames, pixels = raw.shape
    cut = int(partial * frames) * pixels + pixels // 3 if partial else None
    if cut:  # a stream cut off in the middle of a frame, then a reset
        await _stream(dut, raw, rng, gap, backpressure, cut)
        await reset(dut)
    await write_mask(dut, excluded)
    for key in HELD:
        getattr(dut, key).value = held[key]
    began, clock = time.perf_counter(), cycle()
    core, stack, unstable = await _stream(dut, raw, rng, gap, backpressure)
    seconds = time.perf_counter() - began
    differing = flight_mismatches(want, core, stack)
    extra = max(len(core), len(stack)) - raw.size
    result = {
        "frames": frames,
        "pixels": pixels,
        "core_beats": len(core),
        "stack_beats": len(stack),
        "mismatches": sum(differing.values()) + max(extra, 0) + unstable,
        "mismatches_by_port": differing,
        "beats_beyond_the_stream": max(extra, 0),
        "unstable_beats": unstable,
        "reset_after_beats": cut,
        "z_compared": int(want.stack["m_z_valid"].sum()),
        "triggers": want.triggers,
        "excluded_pixels": int(np.count_nonzero(excluded)),
        "held": held,
        "clocks": cycle() - clock,
        "seconds": round(seconds, 2),
    }
    folder = Path(os.environ["UVHUNT_RESULTS"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(result, indent=1))
    assert len(core) == raw.size == len(stack), f"{len(core)}, {len(stack)} of {raw.size} beats"
    assert not result["mismatches"], result


async def _stream(dut, raw, rng, gap, backpressure, beats: int | None = None):
    """Send ``raw`` (its first ``beats``) and take both output streams until each has a beat
    per input beat, then ``AFTER_CLOCKS`` more: (core beats, stack beats) as arrays, and the
    beats that did not hold still while stalled."""
    sent = raw.size if beats is None else beats
    collectors = [
        Collector(dut, *ports, rng, backpressure)
        for ports in (
            ("m_tvalid", "m_tready", CORE_BEAT, CORE_FIELDS),
            ("m_stack_tvalid", "m_stack_tready", STACK_BEAT, STACK_FIELDS),
        )
    ]
    watchers = [cocotb.start_soon(c.run()) for c in collectors]
    await send(dut, raw, rng, gap, beats)
    for _ in range(TAIL_CLOCKS):
        if min(len(c.beats) for c in collectors) >= sent:
            break
        await FallingEdge(dut.clk)
    await Timer(AFTER_CLOCKS * CLOCK_NS, "ns")  # any beat beyond the stream is taken too
    for watcher in watchers:
        watcher.cancel()
    core, stack = (
        np.array(c.beats, np.int64).reshape(-1, len(f))
        for c, f in zip(collectors, (CORE_FIELDS, STACK_FIELDS), strict=True)
    )
    return core, stack, sum(c.unstable for c in collectors)


@cocotb.test()
async def stream_back_to_back(dut):
    """The stream with no gaps, both outputs' ready held high: every output equals its
    software."""
    await _run(dut, "stream_back_to_back", None)


@cocotb.test()
async def stream_stalled(dut):
    """A partial stream, a reset in the middle of a frame, then the stream with gaps in
    s_tvalid, back-pressure on both outputs at random and another mask."""
    await _run(dut, "stream_stalled", 7, gap=0.2, backpressure=0.3, partial=PARTIAL)
