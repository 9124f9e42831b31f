"""A single-event-upset campaign on the trigger core ``uvhunt_core``, in cocotb.

Each fault of the plan (``seu_plan.plan_faults``) gets its own trial: reset, a stream of
frames from the first (the history fills, 47 frames give no window), one bit flipped in a
register or memory word while the core works on a pixel of the injection frame, and every
output of every frame compared with the golden scoring (``CoreReference``). A flip is a
write through the simulator's VPI of the stored value with one bit inverted: the register or
word keeps it until the core writes it again, as an upset cell does. The read-only memories
(weight and bias ROMs, the pixel mask) are restored after each trial, as reconfiguration
would; the history is emptied (all zeros) after each reset, and the rest is cleared by the
reset and the history's refill.

Outcome (``seu_plan.OUTCOMES``): hang if no output came for twice the clocks of a frame;
else detected if a beat raised ``m_seu_detected`` and every wrong beat came with it or after
it in its frame; else silent if any output differs (even if a beat claimed a correction, or
a wrong beat came before the flag); else corrected if a beat raised ``m_seu_corrected``;
else masked. Paths from the environment: ``UVHUNT_GOLDEN``,
``UVHUNT_CORE`` (core.json), ``UVHUNT_SEU`` (campaign.json: the stream, thresholds and
faults), ``UVHUNT_RESULTS`` (``seu.json`` is written there)."""

import json
import os
import time
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, Event, First, RisingEdge, Timer

from uvhunt.firmware_tests.core_reference import CoreReference
from uvhunt.firmware_tests.core_testbench import (
    CLOCK_NS,
    COMPARED,
    CoreScoreboard,
    CoreTestbench,
    StreamDriver,
    StreamMonitor,
    core_of,
)
from uvhunt.firmware_tests.seu_plan import READ_ONLY

TESTS = ("seu_campaign",)
TRIGGER, GATE_TRIGGER = COMPARED.index("trigger"), COMPARED.index("gate_trigger")


class _TrialBoard(CoreScoreboard):
    """The scoreboard, with an event when the last output has come and the trigger bits
    remembered (which faults changed a trigger)."""

    def __init__(self, expected, pixels):
        super().__init__(expected, pixels)
        self.finished = Event()
        self.trigger_changed = False

    def observe(self, beat: tuple[int, ...]) -> None:
        if self.next < len(self.wanted):
            want = self.wanted[self.next]
            self.trigger_changed |= beat[TRIGGER] != want[TRIGGER]
            self.trigger_changed |= beat[GATE_TRIGGER] != want[GATE_TRIGGER]
        super().observe(beat)
        if self.done:
            self.finished.set()


def _handles(dut) -> dict:
    """The top level's handles by plain name (Verilator gives escaped names as ``\\$x ``)."""
    return {h._name.strip().lstrip("\\"): h for h in dut}


def _flip(handle, fault: dict) -> int:
    """Invert one bit; returns the value held before."""
    cell = handle if fault["index"] is None else handle[fault["index"]]
    before = int(cell.value)
    cell.value = before ^ (1 << fault["bit"])
    return before


async def _inject(dut, handle, fault: dict, outputs_before: int, flipped: list) -> None:
    seen = 0
    while seen < outputs_before:
        await RisingEdge(dut.m_tvalid)
        seen += 1
    if fault["offset"]:
        await ClockCycles(dut.clk, fault["offset"])
    flipped.append(_flip(handle, fault))


async def _trial(dut, tb, campaign, stream, expected, handles, fault) -> dict:
    """One fault's trial; ``stream``: (raw, thresholds, gate thresholds) arrays."""
    pixels = stream[0].shape[1]
    await tb.reset()
    history = handles["hist"]  # emptied: no trial inherits the last one's flipped word
    for word in range(len(history)):
        history[word].value = 0  # 0 is a clean word under every code (check and parity bits 0)
    board = _TrialBoard(expected, pixels)
    monitor = cocotb.start_soon(StreamMonitor(dut, board).run())
    flipped: list[int] = []
    before = campaign["inject_frame"] * pixels + fault["pixel"]
    injector = cocotb.start_soon(_inject(dut, handles[fault["target"]], fault, before, flipped))
    driver = cocotb.start_soon(StreamDriver(dut).send(*stream))
    frame_ns = campaign["cycles_per_pixel"] * pixels * CLOCK_NS
    last_seen, hang = -1, False
    while not board.done:  # no new output for two frames' clocks: the stream has stopped
        await First(board.finished.wait(), Timer(2 * frame_ns, unit="ns"))
        if board.next == last_seen:
            hang = not board.done
            break
        last_seen = board.next
    for task in (monitor, injector, driver):
        task.cancel()
    if flipped and fault["target"] in READ_ONLY:
        handle = handles[fault["target"]][fault["index"]]
        handle.value = flipped[0]  # the read-only memories, restored
    if hang:
        outcome = "hang"
    elif board.detected_beats and not board.unflagged_mismatches:
        outcome = "detected"  # every wrong output flagged
    elif board.mismatches:
        outcome = "silent"  # wrong, and nothing said so (a claimed correction included)
    elif board.corrected_beats:
        outcome = "corrected"
    else:
        outcome = "masked"
    return {
        **fault,
        "outcome": outcome,
        "injected": bool(flipped),
        "mismatches": len(board.mismatches),
        "trigger_changed": board.trigger_changed,
        "corrected_beats": board.corrected_beats,
        "detected_beats": board.detected_beats,
        "first_mismatch": board.mismatches[0] if board.mismatches else None,
    }


@cocotb.test()
async def seu_campaign(dut):
    """Every planned fault, one trial each; outcomes written to ``seu.json``."""
    campaign = json.loads(Path(os.environ["UVHUNT_SEU"]).read_text())
    design = json.loads(Path(os.environ["UVHUNT_CORE"]).read_text())
    reference = CoreReference.read(Path(os.environ["UVHUNT_GOLDEN"]), design["preprocessing"])
    raw, thresholds, gate_thresholds = stream = (
        np.asarray(campaign["raw"], np.int64),
        np.asarray(campaign["thresholds"]),
        np.asarray(campaign["gate_thresholds"]),
    )
    expected = reference.expected(raw, thresholds, None, gate_thresholds)
    tb = CoreTestbench(dut)
    handles = _handles(core_of(dut))
    missing = sorted({f["target"] for f in campaign["faults"]} - set(handles))
    assert not missing, f"the simulation does not expose {missing}"
    start = time.perf_counter()
    outcomes = [
        await _trial(dut, tb, campaign, stream, expected, handles, fault)
        for fault in campaign["faults"]
    ]
    folder = Path(os.environ["UVHUNT_RESULTS"])
    folder.mkdir(parents=True, exist_ok=True)
    seconds = time.perf_counter() - start
    (folder / "seu.json").write_text(
        json.dumps({"outcomes": outcomes, "seconds": round(seconds, 2)}, indent=1)
    )
    assert all(o["injected"] for o in outcomes), "a fault was never injected"
