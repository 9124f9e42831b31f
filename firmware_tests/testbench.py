"""Driver, monitor and scoreboard of ``uvhunt_top``, wired by ``MlpTestbench``.

The scoreboard keeps the vectors in flight in order; each output must be the next one's
expected integer and must come exactly ``LATENCY`` clocks after its input.
"""

from collections import deque

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge
from cocotb.utils import get_sim_time

from uvhunt.firmware_tests.reference import MlpReference

CLOCK_NS = 10


class Scoreboard:
    """Pairs each output with the oldest vector in flight and compares them exactly."""

    def __init__(self, latency: int, size: int):
        self.latency = latency
        self.pending: deque[tuple[int, int, int]] = deque()  # (index, expected, input cycle)
        self.outputs = np.zeros(size, np.int64)
        self.seen = np.zeros(size, bool)
        self.compared = 0
        self.mismatches: list[str] = []
        self.dropped = 0

    def expect(self, index: int, expected: int, cycle: int) -> None:
        self.pending.append((index, expected, cycle))

    def observe(self, value: int, cycle: int) -> None:
        if not self.pending:
            self.mismatches.append(f"cycle {cycle}: output {value} with no vector in flight")
            return
        index, expected, sent = self.pending.popleft()
        self.outputs[index], self.seen[index] = value, True
        self.compared += 1
        if value != expected or cycle - sent != self.latency:
            self.mismatches.append(
                f"vector {index}: RTL {value} at cycle {cycle - sent} after input, "
                f"golden {expected} at cycle {self.latency}"
            )

    def flush(self) -> None:
        """A reset: every vector in flight is dropped."""
        self.dropped += len(self.pending)
        self.pending.clear()


class Driver:
    """Puts one vector per clock on ``in_data`` (or idles with ``in_valid`` low)."""

    def __init__(self, dut, scoreboard: Scoreboard):
        self.dut, self.scoreboard = dut, scoreboard

    async def send(
        self,
        words: list[int],
        expected: np.ndarray,
        idle: np.ndarray | None = None,
        first: int = 0,
    ) -> None:
        """``words[i]`` (vector ``first + i``) on the clock after ``idle[i]`` idle clocks
        (default: back to back)."""
        dut, board = self.dut, self.scoreboard
        for i, word in enumerate(words):
            for _ in range(0 if idle is None else int(idle[i])):
                dut.in_valid.value = 0
                await RisingEdge(dut.clk)
            dut.in_data.value = word
            dut.in_valid.value = 1
            board.expect(first + i, int(expected[i]), cycle(CLOCK_NS))  # presented now
            await RisingEdge(dut.clk)
        dut.in_valid.value = 0

    async def reset(self, clocks: int = 2) -> None:
        self.dut.in_valid.value = 0
        self.dut.rst.value = 1
        for _ in range(clocks):
            await RisingEdge(self.dut.clk)
        self.scoreboard.flush()
        self.dut.rst.value = 0


class Monitor:
    """Samples ``out_data`` at every falling edge where ``out_valid`` is high (half a clock
    after the rising edge: settled in every simulator, with one trigger per clock). An output
    sampled in the cycle that starts with rising edge ``c`` counts as cycle ``c``, an input
    presented before edge ``c`` as cycle ``c - 1``, so a latency of L registers shows as L."""

    def __init__(self, dut, scoreboard: Scoreboard):
        self.dut, self.scoreboard = dut, scoreboard
        self.cycles = 0

    async def run(self) -> None:
        dut, board = self.dut, self.scoreboard
        while True:
            await FallingEdge(dut.clk)
            self.cycles += 1
            if dut.out_valid.value == 1:
                board.observe(dut.out_data.value.to_signed(), cycle(CLOCK_NS))


def cycle(period_ns: int) -> int:
    """The clock cycle now: the number of the last rising edge (edges at 0, T, 2T, ...)."""
    return int(get_sim_time("ns") // period_ns)


class MlpTestbench:
    """Clock, reset, driver, monitor and scoreboard around ``uvhunt_top``; its parameters are
    read back from the DUT and checked against the reference."""

    def __init__(self, dut, reference: MlpReference):
        self.dut, self.reference = dut, reference
        self.latency = int(dut.LATENCY.value)
        inputs, bits = int(dut.N_INPUTS.value), int(dut.INPUT_BITS.value)
        if (inputs, bits) != (reference.inputs, reference.input_bits):
            raise AssertionError(
                f"DUT has {inputs} inputs of {bits} bits; the golden model "
                f"{reference.inputs} of {reference.input_bits}"
            )

    async def start(self, vectors: int) -> None:
        self.scoreboard = Scoreboard(self.latency, vectors)
        self.driver = Driver(self.dut, self.scoreboard)
        self.monitor = Monitor(self.dut, self.scoreboard)
        cocotb.start_soon(Clock(self.dut.clk, CLOCK_NS, unit="ns").start())
        self.dut.in_valid.value = 0
        self.dut.in_data.value = 0
        await self.driver.reset()
        cocotb.start_soon(self.monitor.run())

    async def drain(self) -> None:
        """Idle until every vector in flight has come out (or the latency has passed)."""
        for _ in range(self.latency + 2):
            await RisingEdge(self.dut.clk)
