"""Driver, monitor and scoreboard of the trigger core ``uvhunt_core``, wired by
``CoreTestbench``.

The core takes one raw D3 value per handshake (``s_tvalid``/``s_tready``, ``s_tuser`` on a
frame's first pixel, ``s_tlast`` on its last) and gives one output per input pixel
(``m_tvalid``/``m_tready``). The driver and monitor wait on the handshake signals' edges
rather than on every clock, so streams of millions of clocks simulate quickly; values are
set and sampled at falling edges, where everything has settled.
"""

import os
from collections.abc import Callable

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge
from cocotb.types import LogicArray
from cocotb.utils import get_sim_time

from uvhunt._core.simulators import CLOCKED_INSTANCE, HDL_CLOCK_ENV
from uvhunt.firmware_tests.core_reference import GATE_NEVER, Expected

CLOCK_NS = 10
TAIL_CLOCKS = 100_000
"""Clocks the testbench waits, at most, for the outputs after the last input."""


COMPARED = (
    "window_valid",
    "score",
    "trigger",
    "first",
    "last",
    "count",
    "frame_trigger",
    "gate_peak",
    "gate_centre",
    "gate_spread",
    "gate_trigger",
    "gate_low",
)
"""The output fields compared with the reference, in the order of ``StreamMonitor.FIELDS``;
the two upset flags (``seu_corrected``, ``seu_detected``) follow them in a beat."""


def expected_beats(e: Expected, pixels: int) -> list[tuple[int, ...]]:
    """Every output beat the reference expects, in stream order: the ``COMPARED`` fields."""
    frames = len(e.score)
    valid = np.repeat(np.asarray(e.window_valid, np.int64)[:, None], pixels, axis=1)
    pixel = np.broadcast_to(np.arange(pixels), (frames, pixels))
    count = np.cumsum(np.asarray(e.trigger, np.int64), axis=1)
    columns = [
        valid,
        np.where(valid == 1, e.score, 0),
        e.trigger,
        pixel == 0,
        pixel == pixels - 1,
        count,
        count > 0,
        e.gate_peak,
        e.gate_centre,
        e.gate_spread,
        e.gate_trigger,
        e.gate_low,
    ]
    table = np.stack([np.asarray(c, np.int64) for c in columns], axis=-1)
    return [tuple(row) for row in table.reshape(-1, len(COMPARED)).tolist()]


def _named(values: tuple[int, ...]) -> dict[str, int]:
    return dict(zip(COMPARED, values, strict=True))


class CoreScoreboard:
    """Compares every output beat, in order, with the reference's expectation."""

    def __init__(self, expected: Expected, pixels: int):
        self.expected, self.pixels = expected, pixels
        self.wanted = expected_beats(expected, pixels)
        self.next = 0
        self.compared = 0
        self.windows = 0
        self.mismatches: list[str] = []
        self.scores = np.zeros(expected.score.shape, np.int64)
        self.corrected_beats = 0
        """Beats whose pixel read a word the core's ECC corrected (``m_seu_corrected``)."""
        self.detected_beats = 0
        """Beats whose pixel read a word with an uncorrectable error (``m_seu_detected``)."""
        self.unflagged_mismatches = 0
        """Wrong beats with no ``m_seu_detected`` on them or on an earlier beat of their frame
        (a consumer that drops a flagged frame's later counts would still take them)."""
        self._flagged_frames: set[int] = set()

    def observe(self, beat: tuple[int, ...]) -> None:
        """One beat: the ``COMPARED`` fields, then ``seu_corrected`` and ``seu_detected``."""
        got, (corrected, detected) = beat[:-2], beat[-2:]
        self.corrected_beats += corrected
        self.detected_beats += detected
        frame, pixel = divmod(self.next, self.pixels)
        if detected:
            self._flagged_frames.add(frame)
        index, self.next = self.next, self.next + 1
        if index >= len(self.wanted):
            self.mismatches.append(f"output beyond the stream: {_named(got)}")
            self.unflagged_mismatches += 1
            return
        want = self.wanted[index]
        self.scores[frame, pixel] = got[1]
        self.compared += 1
        self.windows += want[0]
        if got != want:
            self.mismatches.append(
                f"frame {frame} pixel {pixel}: core {_named(got)}, golden {_named(want)}"
            )
            self.unflagged_mismatches += frame not in self._flagged_frames

    @property
    def done(self) -> bool:
        return self.next >= len(self.wanted)


class StreamDriver:
    """Sends frames of raw values, pixel after pixel, with optional random gaps in
    ``s_tvalid`` and a threshold (and the peak gate's two threshold codes) per frame."""

    def __init__(self, dut, rng: np.random.Generator | None = None, gap: float = 0.0):
        self.dut, self.rng, self.gap = dut, rng, gap
        self.cycles_waiting = 0

    async def send(
        self,
        raw: np.ndarray,
        thresholds: np.ndarray,
        gate_thresholds: np.ndarray,
        gate_low_thresholds: np.ndarray | None = None,
    ) -> None:
        """``gate_low_thresholds``: default never (all ones)."""
        dut = self.dut
        if gate_low_thresholds is None:
            gate_low_thresholds = np.full(len(raw), GATE_NEVER)
        # handles and edges looked up once: millions of beats make each lookup count
        ready, valid, data, user, last = (
            dut.s_tready,
            dut.s_tvalid,
            dut.s_tdata,
            dut.s_tuser,
            dut.s_tlast,
        )
        rising, falling, ready_rises = RisingEdge(dut.clk), FallingEdge(dut.clk), RisingEdge(ready)
        frames, pixels = raw.shape
        values = np.asarray(raw).tolist()
        for t in range(frames):
            # The trigger bit compares the threshold at output time: change it between
            # frames while the core waits for the frame's first pixel (the last frame's
            # outputs are out by then).
            if ready.value != 1:
                await ready_rises
                await falling
            dut.threshold.value = int(thresholds[t])
            dut.gate_threshold.value = int(gate_thresholds[t])
            dut.gate_low_threshold.value = int(gate_low_thresholds[t])
            for p, value in enumerate(values[t]):
                if self.rng is not None and self.rng.random() < self.gap:
                    valid.value = 0
                    for _ in range(int(self.rng.integers(1, 4))):
                        await falling
                data.value = value
                user.value = int(p == 0)
                last.value = int(p == pixels - 1)
                valid.value = 1
                if ready.value != 1:
                    await ready_rises
                    await falling
                await rising  # taken at this edge (valid and ready both high)
                await falling
                valid.value = 0
        valid.value = 0


class StreamMonitor:
    """Accepts output beats (``m_tready`` pulsed one clock per beat, after an optional
    random back-pressure delay) and hands each to the scoreboard. It reads a beat's outputs
    at once, from the clocked wrapper's ``PACKED_OUTPUTS`` signal."""

    FIELDS = {
        "window_valid": "m_window_valid",
        "score": "m_score",
        "trigger": "m_trig",
        "first": "m_tuser",
        "last": "m_tlast",
        "count": "m_count",
        "frame_trigger": "m_frame_trig",
        "gate_peak": "m_gate_peak",
        "gate_centre": "m_gate_centre",
        "gate_spread": "m_gate_spread",
        "gate_trigger": "m_gate_trig",
        "gate_low": "m_gate_low",
        "seu_corrected": "m_seu_corrected",
        "seu_detected": "m_seu_detected",
    }
    SIGNED = ("score", "gate_peak")

    def __init__(self, dut, board: CoreScoreboard, rng=None, backpressure: float = 0.0):
        self.dut, self.board, self.rng, self.backpressure = dut, board, rng, backpressure
        self.first_cycle: int | None = None
        self.last_cycle = 0

    def unpacker(self):
        """The beat (a value per ``FIELDS``) of the packed outputs' integer."""
        signed = [self.FIELDS[name] for name in self.SIGNED]
        return packed_unpacker(self.dut, PACKED_BEAT, tuple(self.FIELDS.values()), signed)

    async def run(self) -> None:
        dut = self.dut
        beat_of, outputs = self.unpacker(), getattr(dut, PACKED_BEAT)
        valid, ready = dut.m_tvalid, dut.m_tready
        rising, falling, valid_rises = RisingEdge(dut.clk), FallingEdge(dut.clk), RisingEdge(valid)
        ready.value = 0
        while True:
            if valid.value != 1:
                await valid_rises
            await falling
            beat = beat_of(int(outputs.value))
            if self.rng is not None and self.rng.random() < self.backpressure:
                for _ in range(int(self.rng.integers(1, 6))):
                    await falling
            ready.value = 1
            await rising
            await falling
            ready.value = 0
            self.board.observe(beat)


PACKED_BEAT = "m_beat"
"""The clocked wrapper's signal holding every output port of ``StreamMonitor.FIELDS``."""
PACKED_OUTPUTS = {PACKED_BEAT: tuple(StreamMonitor.FIELDS.values())}
"""``sim.runner.run_cocotb``'s ``packed`` for the core's testbenches."""


class CoreTestbench:
    """Clock, reset, driver, monitor and scoreboard around ``uvhunt_core``."""

    def __init__(self, dut):
        self.dut = dut
        self.clock_started = False

    async def reset(self, clocks: int = 2) -> None:
        dut = self.dut
        if not self.clock_started:
            start_clock(dut)
            self.clock_started = True
        dut.s_tvalid.value = 0
        dut.s_tdata.value = 0
        dut.s_tuser.value = 0
        dut.s_tlast.value = 0
        dut.m_tready.value = 0
        dut.threshold.value = 0
        dut.gate_threshold.value = GATE_NEVER
        dut.gate_low_threshold.value = GATE_NEVER
        dut.mask_we.value = 0
        dut.rst.value = 1
        for _ in range(clocks):
            await RisingEdge(dut.clk)
        await FallingEdge(dut.clk)
        dut.rst.value = 0

    async def write_mask(self, mask: np.ndarray) -> None:
        """Write every pixel's mask bit through the mask port, one per clock."""
        await write_mask(self.dut, mask)

    async def stream(
        self,
        raw: np.ndarray,
        expected: Expected,
        thresholds: np.ndarray,
        gate_thresholds: np.ndarray,
        rng: np.random.Generator | None = None,
        gap: float = 0.0,
        backpressure: float = 0.0,
        gate_low_thresholds: np.ndarray | None = None,
    ) -> tuple[CoreScoreboard, int]:
        """Stream ``raw`` (frames, pixels) through the core; returns the scoreboard and the
        clocks the stream took."""
        board = CoreScoreboard(expected, raw.shape[1])
        monitor = StreamMonitor(self.dut, board, rng, backpressure)
        watcher = cocotb.start_soon(monitor.run())
        start = cycle()
        await StreamDriver(self.dut, rng, gap).send(
            raw, thresholds, gate_thresholds, gate_low_thresholds
        )
        for _ in range(TAIL_CLOCKS):  # the last pixel's window, then its output
            if board.done:
                break
            await FallingEdge(self.dut.clk)
        watcher.cancel()
        return board, cycle() - start


def packed_unpacker(dut, packed: str, ports: tuple[str, ...], signed) -> Callable:
    """The values of ``ports`` (those in ``signed`` sign-extended) of an integer of the
    signal ``packed``, their concatenation (the first port the most significant, as
    ``sim.runner.clocked_top`` packs them); checks its width against the ports'."""
    fields, shift = [], 0  # (shift, mask, sign bit or 0), most significant field first
    for port in reversed(ports):
        value = getattr(dut, port).value
        width = len(value) if isinstance(value, LogicArray) else 1
        sign = 1 << (width - 1) if port in signed else 0
        fields.insert(0, (shift, (1 << width) - 1, sign))
        shift += width
    bits = len(getattr(dut, packed))
    if bits != shift:
        raise RuntimeError(f"{packed} has {bits} bits, the outputs {shift}")

    def unpack(v: int) -> tuple[int, ...]:
        return tuple(
            ((v >> s) & m) - (((v >> s) & sign) << 1) if sign else (v >> s) & m
            for s, m, sign in fields
        )

    return unpack


async def write_mask(dut, mask: np.ndarray) -> None:
    """Write every pixel's mask bit through the mask port (``mask_we``, ``mask_addr``,
    ``mask_data``), one per clock."""
    await FallingEdge(dut.clk)
    for pixel, bit in enumerate(np.asarray(mask).tolist()):
        dut.mask_addr.value = pixel
        dut.mask_data.value = int(bool(bit))
        dut.mask_we.value = 1
        await FallingEdge(dut.clk)
    dut.mask_we.value = 0


def start_clock(dut) -> None:
    """Start the clock at ``CLOCK_NS``, unless the top level makes it (``sim.runner``'s
    clocked wrapper: then the period it was given must be ``CLOCK_NS``)."""
    made = os.environ.get(HDL_CLOCK_ENV)
    if made is None:
        Clock(dut.clk, CLOCK_NS, unit="ns").start()
    elif int(made) != CLOCK_NS:
        raise RuntimeError(f"the top level's clock has a {made} ns period, not {CLOCK_NS} ns")


def core_of(dut):
    """The core's own handle: the top level, or its instance in the clocked wrapper."""
    return getattr(dut, CLOCKED_INSTANCE) if HDL_CLOCK_ENV in os.environ else dut


def cycle() -> int:
    """The clock cycle now (rising edges at 0, T, 2T, ...)."""
    return int(get_sim_time("ns") // CLOCK_NS)
