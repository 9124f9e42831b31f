"""cocotb tests of ``uvhunt_top``: every stimulus vector back to back, gaps in the input
valid, a reset in the middle of a stream, and idle inputs. Every output is compared exactly
with the golden model. Paths come from the environment (set by ``sim.runner``):
``UVHUNT_GOLDEN`` (golden model file), ``UVHUNT_PEAK_INPUT`` (1: the design computes the
peak input), ``UVHUNT_STIMULUS`` (groups of vectors),
``UVHUNT_RESULTS`` (folder for each test's outputs and figures)."""

import json
import os
import time
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge

from uvhunt.firmware_tests.reference import MlpReference, load_stimulus
from uvhunt.firmware_tests.testbench import MlpTestbench

SUBSET = 2_000
"""Vectors of the gap and reset tests, at most (windows first, then the other groups; a
quarter of the stimulus when it is small)."""


def _setup(dut):
    reference = MlpReference(
        Path(os.environ["UVHUNT_GOLDEN"]), os.environ.get("UVHUNT_PEAK_INPUT") == "1"
    )
    groups = load_stimulus(Path(os.environ["UVHUNT_STIMULUS"]))
    return MlpTestbench(dut, reference), reference, groups


def _record(name: str, board, extra: dict, outputs: np.ndarray | None = None) -> None:
    folder = Path(os.environ["UVHUNT_RESULTS"])
    folder.mkdir(parents=True, exist_ok=True)
    result = {
        "compared": board.compared,
        "mismatches": len(board.mismatches),
        "first_mismatches": board.mismatches[:10],
        "dropped_by_reset": board.dropped,
        **extra,
    }
    (folder / f"{name}.json").write_text(json.dumps(result, indent=1))
    if outputs is not None:
        np.save(folder / f"{name}_outputs.npy", outputs)


def _subset(groups: dict[str, np.ndarray]) -> np.ndarray:
    order = ["windows"] + [g for g in groups if g != "windows"]
    everything = np.concatenate([groups[g] for g in order if g in groups])
    return everything[: min(SUBSET, len(everything) // 4 + 1)]


@cocotb.test()
async def every_vector_back_to_back(dut):
    """All stimulus groups, one vector per clock, no gaps: every output equals the golden."""
    tb, ref, groups = _setup(dut)
    names = list(groups)
    q = np.concatenate([groups[n] for n in names])
    words, expected = ref.pack(ref.input_codes(q)), ref.expected(q)
    await tb.start(len(q))
    start, first = time.perf_counter(), tb.monitor.cycles
    await tb.driver.send(words, expected)
    await tb.drain()
    seconds = time.perf_counter() - start
    board = tb.scoreboard
    cycles = tb.monitor.cycles - first
    sizes = {n: int(len(groups[n])) for n in names}
    mismatch_groups = {}
    bounds = np.cumsum([0] + list(sizes.values()))
    for n, a, b in zip(names, bounds[:-1], bounds[1:], strict=True):
        mismatch_groups[n] = int(np.sum(board.outputs[a:b] != expected[a:b]))
    _record(
        "every_vector_back_to_back",
        board,
        {
            "vectors": int(len(q)),
            "groups": sizes,
            "group_mismatches": mismatch_groups,
            "cycles": int(cycles),
            "latency": tb.latency,
            "wall_seconds": seconds,
            "vectors_per_second": len(q) / seconds,
        },
        np.stack([board.outputs, board.seen.astype(np.int64)], axis=1),
    )
    assert board.seen.all(), f"{int((~board.seen).sum())} vectors never came out"
    assert not board.mismatches, "\n".join(board.mismatches[:10])


@cocotb.test()
async def input_valid_with_gaps(dut):
    """Random idle clocks (0-3) between vectors: outputs keep order, value and latency."""
    tb, ref, groups = _setup(dut)
    q = _subset(groups)
    idle = np.random.default_rng(1).integers(0, 4, len(q))
    idle[np.random.default_rng(2).random(len(q)) < 0.5] = 0
    await tb.start(len(q))
    await tb.driver.send(ref.pack(ref.input_codes(q)), ref.expected(q), idle)
    await tb.drain()
    board = tb.scoreboard
    _record("input_valid_with_gaps", board, {"vectors": int(len(q)), "idle": int(idle.sum())})
    assert board.seen.all(), f"{int((~board.seen).sum())} vectors never came out"
    assert not board.mismatches, "\n".join(board.mismatches[:10])


@cocotb.test()
async def reset_in_the_middle_of_a_stream(dut):
    """A 2-clock reset mid-stream drops exactly the vectors in flight; the stream resumes
    exactly, with the same latency."""
    tb, ref, groups = _setup(dut)
    q = _subset(groups)
    half = len(q) // 2
    codes, expected = ref.input_codes(q), ref.expected(q)
    await tb.start(len(q))
    await tb.driver.send(ref.pack(codes[:half]), expected[:half])
    await tb.driver.reset(clocks=2)
    board = tb.scoreboard
    before, dropped = board.compared, board.dropped
    await tb.driver.send(ref.pack(codes[half:]), expected[half:], first=half)
    await tb.drain()
    _record(
        "reset_in_the_middle_of_a_stream",
        board,
        {"vectors": int(len(q)), "compared_before_reset": before, "dropped": dropped},
    )
    # In flight at the reset edge: the vectors of the last LATENCY - 1 cycles.
    assert dropped == min(tb.latency - 1, half), f"{dropped} vectors in flight at the reset"
    assert before + dropped == half and board.seen[:half].sum() == before
    assert board.seen[half:].all(), f"{int((~board.seen[half:]).sum())} lost after the reset"
    assert not board.mismatches, "\n".join(board.mismatches[:10])


@cocotb.test()
async def idle_inputs_give_no_output(dut):
    """With in_valid low, changing in_data never raises out_valid."""
    tb, ref, groups = _setup(dut)
    q = _subset(groups)[:200]
    await tb.start(0)
    for word in ref.pack(ref.input_codes(q)):
        tb.dut.in_data.value = word
        await RisingEdge(tb.dut.clk)
    await tb.drain()
    _record("idle_inputs_give_no_output", tb.scoreboard, {"clocks": len(q)})
    assert not tb.scoreboard.mismatches, "\n".join(tb.scoreboard.mismatches[:10])
