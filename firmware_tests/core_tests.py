"""cocotb tests of the trigger core ``uvhunt_core``: a simulated session streamed back to
back; gaps in the input valid and back-pressure on the output ready, with the threshold
changing between frames; extreme counts (dead and hot pixels, 0, the largest raw value,
clipped samples and saturating residuals); a reset in the middle of a frame, then a clean
restart; a pixel mask written through the mask port at run time.
Every score, trigger bit and frame count is compared exactly with the golden scoring of
`uvhunt detect`, and every peak-gate output (S, its centre, V, the gate's two bits) with
``detection.peak_gate``'s integers, masked pixels' trigger bits 0 (the stream file's
``mask``: the core's initial mask). Paths come from the environment (set by ``sim.runner``):
``UVHUNT_GOLDEN`` (golden model), ``UVHUNT_CORE`` (core.json: preprocessing, pixels),
``UVHUNT_STREAM`` (stream.npz: raw frames, thresholds and the gate's two threshold codes per
test; a missing code: never),
``UVHUNT_RESULTS``."""

import json
import os
import time
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, RisingEdge

from uvhunt.firmware_tests.core_reference import GATE_NEVER, CoreReference
from uvhunt.firmware_tests.core_testbench import CoreTestbench

TESTS = (
    "session_back_to_back",
    "gaps_backpressure_and_threshold_changes",
    "extreme_counts",
    "reset_mid_frame_then_restart",
    "mask_written_at_run_time",
)


def _setup(dut):
    design = json.loads(Path(os.environ["UVHUNT_CORE"]).read_text())
    reference = CoreReference.read(Path(os.environ["UVHUNT_GOLDEN"]), design["preprocessing"])
    with np.load(Path(os.environ["UVHUNT_STREAM"])) as data:
        stream = {name: data[name] for name in data.files}
    return CoreTestbench(dut), reference, stream


def _record(name: str, board, extra: dict) -> None:
    folder = Path(os.environ["UVHUNT_RESULTS"])
    folder.mkdir(parents=True, exist_ok=True)
    result = {
        "compared": board.compared,
        "windows": board.windows,
        "mismatches": len(board.mismatches),
        "first_mismatches": board.mismatches[:10],
        **extra,
    }
    (folder / f"{name}.json").write_text(json.dumps(result, indent=1))


async def _run(
    dut, name, raw_key, seed, gap=0.0, backpressure=0.0, tb=None, mask_key="mask", reset=True
):
    fresh, ref, stream = _setup(dut)
    tb = tb or fresh
    raw, thresholds = stream[raw_key], stream[f"{raw_key}_thresholds"]
    never = np.full(len(raw), GATE_NEVER)
    gate_thresholds = stream.get(f"{raw_key}_gate_thresholds", never)
    gate_lows = stream.get(f"{raw_key}_gate_low_thresholds", never)
    expected = ref.expected(raw, thresholds, stream.get(mask_key), gate_thresholds, gate_lows)
    if reset:
        await tb.reset()
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    board, clocks = await tb.stream(
        raw, expected, thresholds, gate_thresholds, rng, gap, backpressure, gate_lows
    )
    seconds = time.perf_counter() - start
    _record(
        name,
        board,
        {
            "frames": int(len(raw)),
            "pixels": int(raw.shape[1]),
            "clocks": clocks,
            "seconds": round(seconds, 2),
            "frames_per_second": round(len(raw) / seconds, 2),
            "triggers": int(expected.trigger.sum()),
            "gate_triggers": int(expected.gate_trigger.sum()),
            "gate_lows": int(expected.gate_low.sum()),
            "masked_pixels": int(np.count_nonzero(stream.get(mask_key, 0))),
        },
    )
    if name == "session_back_to_back":
        np.save(Path(os.environ["UVHUNT_RESULTS"]) / "session_scores.npy", board.scores)
    assert board.compared == raw.size, f"{board.compared} of {raw.size} outputs came out"
    assert not board.mismatches, board.mismatches[:5]
    flags = board.corrected_beats + board.detected_beats
    assert flags == 0, f"{flags} beats flag an upset in a fault-free stream"


@cocotb.test()
async def session_back_to_back(dut):
    """A simulated session's frames, every pixel, no gaps: every output equals the golden."""
    await _run(dut, "session_back_to_back", "session", 0)


@cocotb.test()
async def gaps_backpressure_and_threshold_changes(dut):
    """Random gaps in s_tvalid and back-pressure on m_tready; a new threshold each frame."""
    await _run(dut, "gaps_backpressure_and_threshold_changes", "varied", 1, 0.3, 0.3)


@cocotb.test()
async def extreme_counts(dut):
    """Dead and hot pixels, 0 and the largest raw value, jumps beyond the clip, saturation."""
    await _run(dut, "extreme_counts", "extremes", 2, 0.1, 0.1)


@cocotb.test()
async def reset_mid_frame_then_restart(dut):
    """A reset in the middle of a frame empties the history: the restarted stream's outputs
    equal the golden scoring of the new stream alone."""
    tb, ref, stream = _setup(dut)
    raw = stream["varied"]
    await tb.reset()
    dut.threshold.value = 0
    dut.m_tready.value = 1
    half = raw.size // 2 + raw.shape[1] // 3
    for value in raw.reshape(-1)[:half]:  # a partial stream, outputs not checked
        dut.s_tdata.value = int(value)
        dut.s_tvalid.value = 1
        if dut.s_tready.value != 1:
            await RisingEdge(dut.s_tready)
            await FallingEdge(dut.clk)
        await RisingEdge(dut.clk)
        await FallingEdge(dut.clk)
    dut.s_tvalid.value = 0
    await _run(dut, "reset_mid_frame_then_restart", "extremes", 3, tb=tb)


@cocotb.test()
async def mask_written_at_run_time(dut):
    """A new pixel mask written through the mask port (every other pixel that triggers in the
    stream masked, the initial mask's pixels live again) before the stream, the initial mask
    written back after it: trigger bits and counts follow the written mask."""
    tb, _, stream = _setup(dut)
    await tb.reset()
    await tb.write_mask(stream["rewritten_mask"])
    try:
        await _run(
            dut, "mask_written_at_run_time", "extremes", 4, 0.1, 0.1, tb, "rewritten_mask", False
        )
    finally:
        await tb.write_mask(stream["mask"])
