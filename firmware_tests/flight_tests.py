"""cocotb tests of the flight trigger ``uvhunt_flight`` (``hls/flight_trigger.py``): one stream
of raw counts in, the trigger core's beats and the stack trigger's beats out, each on its own
handshake. Each test resets the design, writes its excluded pixels through the one mask port,
holds its five thresholds and streams its frames; every output beat of both streams is
compared exactly with ``flight_reference``'s expectation (the golden scoring and the peak
gate's integers, the track stack's integer twin, the coincidence).

``stream_back_to_back``: no gap in the input, both outputs always ready.
``stream_stalled``: random gaps in ``s_tvalid`` and random back-pressure on both outputs, a
different mask.

Paths come from the environment (set by ``sim.flight_cosim``): ``UVHUNT_STREAM`` (the cases'
arrays, ``flight_reference.case_arrays``), ``UVHUNT_RESULTS``."""

import json
import os
import time
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, RisingEdge
from cocotb.types import LogicArray

from uvhunt.firmware_tests.core_testbench import cycle, start_clock
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


def unpacker(dut, fields: tuple[str, ...]):
    """The field values (signed ones sign-extended) of a packed beat's integer (the first
    field the most significant)."""
    layout, shift = [], 0
    for name in reversed(fields):
        value = getattr(dut, name).value
        width = len(value) if isinstance(value, LogicArray) else 1
        layout.insert(0, (shift, (1 << width) - 1, 1 << (width - 1) if name in SIGNED else 0))
        shift += width

    def unpack(v: int) -> tuple[int, ...]:
        return tuple(
            ((v >> s) & m) - (((v >> s) & sign) << 1) if sign else (v >> s) & m
            for s, m, sign in layout
        )

    return unpack


async def collect(dut, valid, ready, packed, fields, beats: list, rng, backpressure: float):
    """Take beats of one output stream into ``beats``: ``ready`` raised for one clock per
    beat, after a random delay with probability ``backpressure``."""
    unpack, outputs = unpacker(dut, fields), getattr(dut, packed)
    valid, ready = getattr(dut, valid), getattr(dut, ready)
    rising, falling, valid_rises = RisingEdge(dut.clk), FallingEdge(dut.clk), RisingEdge(valid)
    ready.value = 0
    while True:
        if valid.value != 1:
            await valid_rises
        await falling
        beat = unpack(int(outputs.value))
        if rng is not None and rng.random() < backpressure:
            for _ in range(int(rng.integers(1, 6))):
                await falling
        ready.value = 1
        await rising
        await falling
        ready.value = 0
        beats.append(beat)


async def reset(dut) -> None:
    for name in ("s_tvalid", "s_tdata", "s_tuser", "m_tready", "m_stack_tready", "mask_we"):
        getattr(dut, name).value = 0
    dut.rst.value = 1
    for _ in range(2):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0


async def write_mask(dut, excluded: np.ndarray) -> None:
    """Every pixel's mask bit through the mask port, one a clock."""
    for pixel, bit in enumerate(np.asarray(excluded).tolist()):
        dut.mask_addr.value = pixel
        dut.mask_data.value = int(bit)
        dut.mask_we.value = 1
        await FallingEdge(dut.clk)
    dut.mask_we.value = 0


async def send(dut, raw: np.ndarray, rng, gap: float) -> None:
    """Raw counts, pixel after pixel, ``s_tuser`` on each frame's first; with probability
    ``gap`` a pause of 1–3 clocks before a beat."""
    ready, valid, data, user = dut.s_tready, dut.s_tvalid, dut.s_tdata, dut.s_tuser
    rising, falling, ready_rises = RisingEdge(dut.clk), FallingEdge(dut.clk), RisingEdge(ready)
    for frame in np.asarray(raw).tolist():
        for p, value in enumerate(frame):
            if rng is not None and rng.random() < gap:
                valid.value = 0
                for _ in range(int(rng.integers(1, 4))):
                    await falling
            data.value = value
            user.value = int(p == 0)
            valid.value = 1
            if ready.value != 1:
                await ready_rises
                await falling
            await rising  # taken at this edge
            await falling
    valid.value = 0


async def _run(dut, name: str, seed: int | None, gap: float = 0.0, backpressure: float = 0.0):
    start_clock(dut)
    with np.load(Path(os.environ["UVHUNT_STREAM"])) as data:
        raw, held, excluded, want = read_case(data, name)
    await reset(dut)
    await write_mask(dut, excluded)
    for key in HELD:
        getattr(dut, key).value = held[key]
    rng = None if seed is None else np.random.default_rng(seed)
    core_beats, stack_beats = [], []
    watchers = [
        cocotb.start_soon(collect(dut, *ports, rng, backpressure))
        for ports in (
            ("m_tvalid", "m_tready", CORE_BEAT, CORE_FIELDS, core_beats),
            ("m_stack_tvalid", "m_stack_tready", STACK_BEAT, STACK_FIELDS, stack_beats),
        )
    ]
    began, clock = time.perf_counter(), cycle()
    await send(dut, raw, rng, gap)
    for _ in range(TAIL_CLOCKS):
        if min(len(core_beats), len(stack_beats)) >= raw.size:
            break
        await FallingEdge(dut.clk)
    for watcher in watchers:
        watcher.cancel()
    seconds = time.perf_counter() - began
    frames, pixels = raw.shape
    core = np.array(core_beats, np.int64).reshape(-1, len(CORE_FIELDS))
    stack = np.array(stack_beats, np.int64).reshape(-1, len(STACK_FIELDS))
    differing = flight_mismatches(want, core, stack)
    result = {
        "frames": frames,
        "pixels": pixels,
        "core_beats": len(core),
        "stack_beats": len(stack),
        "mismatches": sum(differing.values()),
        "mismatches_by_port": differing,
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
    assert not result["mismatches"], differing


@cocotb.test()
async def stream_back_to_back(dut):
    """The stream with no gaps, both outputs always ready: every output equals its software."""
    await _run(dut, "stream_back_to_back", None)


@cocotb.test()
async def stream_stalled(dut):
    """Gaps in s_tvalid, back-pressure on both outputs at random, another mask."""
    await _run(dut, "stream_stalled", 7, gap=0.2, backpressure=0.3)
