"""The flight trigger written as Verilog and co-simulated with cocotb in Verilator (the small
design of ``tests/flight_scenario.py``: a 48-4-4-1 core and the small stack on 3 × 3 pixels,
66 frames): both streams' every output equals its software, back to back and with gaps,
back-pressure on both outputs and another mask written through the port after a reset in the
middle of a frame; a wrong expectation is caught."""

import json

import pytest

from tests.flight_scenario import SIDE, small_cases, small_flight, small_golden
from uvhunt._core.simulators import find_simulator
from uvhunt.sim.junit import junit_verdicts
from uvhunt.sim.junit import test_results as read_results
from uvhunt.stages.flight import cosimulate


@pytest.mark.parametrize("spoil", [False, True])
def test_the_flight_trigger_in_verilator_equals_its_software(tmp_path, spoil):
    golden = small_golden()
    flight = small_flight(golden, None)
    cases = small_cases(flight, golden, spoil)
    run = cosimulate(flight, cases, find_simulator("verilator", tmp_path / "bin"), tmp_path)
    verdicts, results = junit_verdicts(run.junit), read_results(run.results)
    back, stalled = results["stream_back_to_back"], results["stream_stalled"]
    assert back["core_beats"] == back["stack_beats"] == 66 * SIDE * SIDE
    assert back["mismatches"] == 0 and verdicts["stream_back_to_back"] == "passed"
    for result in (back, stalled):  # the streams reach every kind of output
        assert all(result["triggers"][k] > 0 for k in ("m_trig", "m_gate_trig", "m_coinc"))
        assert result["z_compared"] > 0 and result["triggers"]["m_stack_trig"] > 0
    if spoil:
        assert verdicts["stream_stalled"] == "failed"
        assert stalled["mismatches_by_port"]["m_coinc"] == 1, json.dumps(stalled)
        assert stalled["mismatches"] == 1
    else:
        assert verdicts["stream_stalled"] == "passed" and stalled["mismatches"] == 0
        assert stalled["excluded_pixels"] == 2
    # the stalled stream came after a reset in the middle of a frame; no beat moved while
    # stalled, none came beyond either stream
    assert stalled["reset_after_beats"] % (SIDE * SIDE) == SIDE * SIDE // 3
    for result in (back, stalled):
        assert result["unstable_beats"] == result["beats_beyond_the_stream"] == 0
