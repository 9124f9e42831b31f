"""Driver, monitor and scoreboard of the trigger core ``uvhunt_core``, wired by
``CoreTestbench``.

The core takes one raw D3 value per handshake (``s_tvalid``/``s_tready``, ``s_tuser`` on a
frame's first pixel, ``s_tlast`` on its last) and gives one output per input pixel
(``m_tvalid``/``m_tready``). The driver and monitor wait on the handshake signals' edges
rather than on every clock, so streams of millions of clocks simulate quickly; values are
set and sampled at falling edges, where everything has settled.
"""

import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge
from cocotb.utils import get_sim_time

from uvhunt._core.simulators import CLOCKED_INSTANCE, HDL_CLOCK_ENV
from uvhunt.firmware_tests.core_reference import GATE_NEVER, Expected

CLOCK_NS = 10
TAIL_CLOCKS = 100_000
"""Clocks the testbench waits, at most, for the outputs after the last input."""


class CoreScoreboard:
    """Compares every output beat, in order, with the reference's expectation."""

    def __init__(self, expected: Expected, pixels: int):
        self.expected, self.pixels = expected, pixels
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

    def observe(self, beat: dict) -> None:
        beat = dict(beat)
        self.corrected_beats += beat.pop("seu_corrected", 0)
        detected = beat.pop("seu_detected", 0)
        self.detected_beats += detected
        frame, pixel = divmod(self.next, self.pixels)
        if detected:
            self._flagged_frames.add(frame)
        self.next += 1
        e = self.expected
        if frame >= len(e.score):
            self.mismatches.append(f"output beyond the stream: {beat}")
            self.unflagged_mismatches += 1
            return
        want = {
            "window_valid": int(e.window_valid[frame]),
            "score": int(e.score[frame, pixel]) if e.window_valid[frame] else 0,
            "trigger": int(e.trigger[frame, pixel]),
            "first": int(pixel == 0),
            "last": int(pixel == self.pixels - 1),
            "count": int(e.trigger[frame, : pixel + 1].sum()),
            "frame_trigger": int(e.trigger[frame, : pixel + 1].any()),
            "gate_peak": int(e.gate_peak[frame, pixel]),
            "gate_centre": int(e.gate_centre[frame, pixel]),
            "gate_spread": int(e.gate_spread[frame, pixel]),
            "gate_trigger": int(e.gate_trigger[frame, pixel]),
        }
        self.scores[frame, pixel] = beat["score"]
        self.compared += 1
        self.windows += want["window_valid"]
        if beat != want:
            self.mismatches.append(f"frame {frame} pixel {pixel}: core {beat}, golden {want}")
            self.unflagged_mismatches += frame not in self._flagged_frames

    @property
    def done(self) -> bool:
        return self.next >= self.expected.score.size


class StreamDriver:
    """Sends frames of raw values, pixel after pixel, with optional random gaps in
    ``s_tvalid`` and a threshold (and a peak-gate threshold) per frame."""

    def __init__(self, dut, rng: np.random.Generator | None = None, gap: float = 0.0):
        self.dut, self.rng, self.gap = dut, rng, gap
        self.cycles_waiting = 0

    async def send(
        self, raw: np.ndarray, thresholds: np.ndarray, gate_thresholds: np.ndarray
    ) -> None:
        dut = self.dut
        frames, pixels = raw.shape
        for t in range(frames):
            # The trigger bit compares the threshold at output time: change it between
            # frames while the core waits for the frame's first pixel (the last frame's
            # outputs are out by then).
            if dut.s_tready.value != 1:
                await RisingEdge(dut.s_tready)
                await FallingEdge(dut.clk)
            dut.threshold.value = int(thresholds[t])
            dut.gate_threshold.value = int(gate_thresholds[t])
            for p in range(pixels):
                if self.rng is not None and self.rng.random() < self.gap:
                    dut.s_tvalid.value = 0
                    for _ in range(int(self.rng.integers(1, 4))):
                        await FallingEdge(dut.clk)
                dut.s_tdata.value = int(raw[t, p])
                dut.s_tuser.value = int(p == 0)
                dut.s_tlast.value = int(p == pixels - 1)
                dut.s_tvalid.value = 1
                if dut.s_tready.value != 1:
                    await RisingEdge(dut.s_tready)
                    await FallingEdge(dut.clk)
                await RisingEdge(dut.clk)  # taken at this edge (valid and ready both high)
                await FallingEdge(dut.clk)
                dut.s_tvalid.value = 0
        dut.s_tvalid.value = 0


class StreamMonitor:
    """Accepts output beats (``m_tready`` pulsed one clock per beat, after an optional
    random back-pressure delay) and hands each to the scoreboard."""

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
        "seu_corrected": "m_seu_corrected",
        "seu_detected": "m_seu_detected",
    }
    SIGNED = ("score", "gate_peak")

    def __init__(self, dut, board: CoreScoreboard, rng=None, backpressure: float = 0.0):
        self.dut, self.board, self.rng, self.backpressure = dut, board, rng, backpressure
        self.first_cycle: int | None = None
        self.last_cycle = 0

    async def run(self) -> None:
        dut = self.dut
        dut.m_tready.value = 0
        while True:
            if dut.m_tvalid.value != 1:
                await RisingEdge(dut.m_tvalid)
            await FallingEdge(dut.clk)
            beat = {
                name: (
                    getattr(dut, port).value.to_signed()
                    if name in self.SIGNED
                    else int(getattr(dut, port).value)
                )
                for name, port in self.FIELDS.items()
            }
            if self.rng is not None and self.rng.random() < self.backpressure:
                for _ in range(int(self.rng.integers(1, 6))):
                    await FallingEdge(dut.clk)
            dut.m_tready.value = 1
            await RisingEdge(dut.clk)
            await FallingEdge(dut.clk)
            dut.m_tready.value = 0
            self.board.observe(beat)


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
        dut.mask_we.value = 0
        dut.rst.value = 1
        for _ in range(clocks):
            await RisingEdge(dut.clk)
        await FallingEdge(dut.clk)
        dut.rst.value = 0

    async def write_mask(self, mask: np.ndarray) -> None:
        """Write every pixel's mask bit through the mask port, one per clock."""
        dut = self.dut
        await FallingEdge(dut.clk)
        for pixel, bit in enumerate(np.asarray(mask)):
            dut.mask_addr.value = pixel
            dut.mask_data.value = int(bool(bit))
            dut.mask_we.value = 1
            await FallingEdge(dut.clk)
        dut.mask_we.value = 0

    async def stream(
        self,
        raw: np.ndarray,
        expected: Expected,
        thresholds: np.ndarray,
        gate_thresholds: np.ndarray,
        rng: np.random.Generator | None = None,
        gap: float = 0.0,
        backpressure: float = 0.0,
    ) -> tuple[CoreScoreboard, int]:
        """Stream ``raw`` (frames, pixels) through the core; returns the scoreboard and the
        clocks the stream took."""
        board = CoreScoreboard(expected, raw.shape[1])
        monitor = StreamMonitor(self.dut, board, rng, backpressure)
        watcher = cocotb.start_soon(monitor.run())
        start = cycle()
        await StreamDriver(self.dut, rng, gap).send(raw, thresholds, gate_thresholds)
        for _ in range(TAIL_CLOCKS):  # the last pixel's window, then its output
            if board.done:
                break
            await FallingEdge(self.dut.clk)
        watcher.cancel()
        return board, cycle() - start


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
