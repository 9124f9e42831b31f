"""A single-event-upset campaign on the trigger core ``uvhunt_core``, in cocotb.

Each fault of the plan (``seu_plan.plan_faults``) gets its own trial: the core as a clean
stream of the frames before the injection frame leaves it (the history full), the stream
going on from there, one bit flipped in a register or memory word while the core works on a
pixel of the injection frame, and every output compared with the golden scoring
(``CoreReference``). The clean stream is simulated once: its end state (every register and
every word of the memories the core writes, ``campaign["state"]``, and the input ports) is
read once and written back at the start of each trial, after a reset: the same state as
streaming those frames again, without simulating them in every trial.
``campaign["refill"]``: stream them again in every trial instead (the reference the tests
compare with). A flip is a
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
from cocotb.triggers import ClockCycles, Event, FallingEdge, First, RisingEdge, Timer
from cocotb.utils import get_sim_time

from uvhunt.firmware_tests.core_reference import GATE_NEVER, CoreReference
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
TRIGGERS = tuple(COMPARED.index(name) for name in ("trigger", "gate_trigger", "gate_low"))


class _TrialBoard(CoreScoreboard):
    """The scoreboard, with an event when the last output has come, the time of the latest
    (ns) and the trigger bits remembered (which faults changed a trigger)."""

    def __init__(self, expected, pixels):
        super().__init__(expected, pixels)
        self.finished = Event()
        self.last_output_ns = get_sim_time("ns")
        self.trigger_changed = False

    def observe(self, beat: tuple[int, ...]) -> None:
        if self.next < len(self.wanted):
            want = self.wanted[self.next]
            self.trigger_changed |= any(beat[i] != want[i] for i in TRIGGERS)
        super().observe(beat)
        self.last_output_ns = get_sim_time("ns")
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


async def _clean_start(dut, tb, handles) -> None:
    """Reset, and the history emptied: no trial inherits the last one's flipped word."""
    await tb.reset()
    history = handles["hist"]
    for word in range(len(history)):
        history[word].value = 0  # 0 is a clean word under every code (check and parity bits 0)


def _read_state(handles, names: list[str]) -> dict:
    """The values of the registers and memory words ``names``."""
    state = {}
    for name in names:
        handle = handles[name]
        if _is_memory(handle):
            state[name] = [int(handle[i].value) for i in range(len(handle))]
        else:
            state[name] = int(handle.value)
    return state


def _write_state(handles, state: dict) -> None:
    for name, value in state.items():
        handle = handles[name]
        if isinstance(value, list):
            for i, word in enumerate(value):
                handle[i].value = word
        else:
            handle.value = value


def _is_memory(handle) -> bool:
    try:
        len(handle[0])  # a memory's word; a register's bit has no length
    except (IndexError, TypeError, AttributeError):
        return False
    return True


async def _checkpoint(dut, tb, campaign, stream, expected, handles) -> tuple[dict, int]:
    """The clean stream of the frames before the injection frame, once: the core's state
    at the falling edge where the driver would begin the injection frame, and the outputs
    it gave by then, every one exact."""
    pixels, frames = stream[0].shape[1], campaign["inject_frame"]
    await _clean_start(dut, tb, handles)
    board = _TrialBoard(expected, pixels)
    watcher = cocotb.start_soon(StreamMonitor(dut, board).run())
    await StreamDriver(dut).send(*(a[:frames] for a in stream))
    busy = int(dut.m_tvalid.value) or int(dut.m_tready.value)
    assert not busy, "an output handshake at the checkpoint: its state is not the ports'"
    state = _read_state(handles, campaign["state"])
    watcher.cancel()
    assert not board.mismatches, board.mismatches[:3]
    return state, board.next


async def _restore(dut, tb, handles, checkpoint: tuple[dict, int], stream, frames: int) -> None:
    """The checkpoint's state, at a falling edge, settled: written just after a rising
    edge (over what the core clocked in), with the input ports as the driver left them after
    ``frames`` frames (s_tvalid low, the last pixel's data, the last frame's thresholds)."""
    raw, thresholds, gate_thresholds, gate_lows = stream
    await tb.reset()
    await RisingEdge(dut.clk)
    _write_state(handles, checkpoint[0])
    pixels = raw.shape[1]
    for port, value in (
        ("s_tvalid", 0),
        ("s_tdata", int(raw[frames - 1, -1])),
        ("s_tuser", int(pixels == 1)),
        ("s_tlast", 1),
        ("threshold", int(thresholds[frames - 1])),
        ("gate_threshold", int(gate_thresholds[frames - 1])),
        ("gate_low_threshold", int(gate_lows[frames - 1])),
    ):
        getattr(dut, port).value = value
    await FallingEdge(dut.clk)


async def _trial(dut, tb, campaign, stream, expected, handles, fault, checkpoint) -> dict:
    """One fault's trial; ``stream``: (raw, thresholds, gate thresholds, low gate
    thresholds) arrays;
    ``checkpoint``: ``_checkpoint``'s state and outputs, or None (stream from the first
    frame)."""
    pixels = stream[0].shape[1]
    frames = 0
    if checkpoint is None:
        await _clean_start(dut, tb, handles)
    else:
        frames = campaign["inject_frame"]
        await _restore(dut, tb, handles, checkpoint, stream, frames)
    board = _TrialBoard(expected, pixels)  # its quiet time counts from here
    if checkpoint is not None:
        board.next = checkpoint[1]
    monitor = cocotb.start_soon(StreamMonitor(dut, board).run())
    flipped: list[int] = []
    before = campaign["inject_frame"] * pixels + fault["pixel"] - board.next
    injector = cocotb.start_soon(_inject(dut, handles[fault["target"]], fault, before, flipped))
    driver = cocotb.start_soon(StreamDriver(dut).send(*(a[frames:] for a in stream)))
    frame_ns = campaign["cycles_per_pixel"] * pixels * CLOCK_NS
    hang = False
    while not board.done:  # no output for two frames' clocks since the last: stopped
        quiet = get_sim_time("ns") - board.last_output_ns
        if quiet >= 2 * frame_ns:
            hang = True
            break
        await First(board.finished.wait(), Timer(2 * frame_ns - quiet, unit="ns"))
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
    raw, thresholds, gate_thresholds, gate_lows = stream = (
        np.asarray(campaign["raw"], np.int64),
        np.asarray(campaign["thresholds"]),
        np.asarray(campaign["gate_thresholds"]),
        np.asarray(campaign.get("gate_low_thresholds", [GATE_NEVER] * len(campaign["raw"]))),
    )
    expected = reference.expected(raw, thresholds, None, gate_thresholds, gate_lows)
    tb = CoreTestbench(dut)
    handles = _handles(core_of(dut))
    refill = campaign.get("refill", False)
    needed = {f["target"] for f in campaign["faults"]} | set([] if refill else campaign["state"])
    missing = sorted(needed - set(handles))
    assert not missing, f"the simulation does not expose {missing}"
    start = time.perf_counter()
    checkpoint = None
    if not refill:
        checkpoint = await _checkpoint(dut, tb, campaign, stream, expected, handles)
    outcomes = [
        await _trial(dut, tb, campaign, stream, expected, handles, fault, checkpoint)
        for fault in campaign["faults"]
    ]
    folder = Path(os.environ["UVHUNT_RESULTS"])
    folder.mkdir(parents=True, exist_ok=True)
    seconds = time.perf_counter() - start
    (folder / "seu.json").write_text(
        json.dumps({"outcomes": outcomes, "seconds": round(seconds, 2)}, indent=1)
    )
    assert all(o["injected"] for o in outcomes), "a fault was never injected"
