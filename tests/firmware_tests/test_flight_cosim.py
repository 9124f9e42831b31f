"""The flight trigger written as Verilog and co-simulated with cocotb in Verilator (the small
design of ``tests/flight_scenario.py``: a 48-4-4-1 core and the small stack on 3 × 3 pixels,
66 frames): both streams' every output equals its software, back to back and with gaps,
back-pressure on both outputs and another mask written through the port after a reset; a
wrong expectation is caught."""

import json

import numpy as np
import pytest

from tests.flight_scenario import (
    REACH,
    SIDE,
    excluded_pixels,
    small_flight,
    small_golden,
    small_raw,
    thresholds,
)
from tests.stack_skies import SMALL
from uvhunt._core.simulators import find_simulator
from uvhunt.firmware_tests.core_reference import CoreReference
from uvhunt.firmware_tests.flight_reference import case_arrays, expected_flight
from uvhunt.firmware_tests.flight_tests import TESTS
from uvhunt.quant.preprocess import Preprocessing
from uvhunt.sim.junit import junit_verdicts
from uvhunt.sim.junit import test_results as read_results
from uvhunt.stages.flight import cosimulate


def _cases(flight, golden, spoil=False):
    raw, reference = small_raw(), CoreReference(golden, Preprocessing())
    other = np.zeros(SIDE * SIDE, bool)
    other[[2, 6]] = True  # another mask, written after the reset
    masks = {"stream_back_to_back": excluded_pixels(), "stream_stalled": other}
    cases = {}
    for name in TESTS:
        held = thresholds(reference, raw, masks[name])
        stack = flight.stack
        want = expected_flight(
            reference, SMALL, SIDE, stack.lag, stack.first_z, REACH, raw, held, masks[name]
        )
        if spoil and name == "stream_stalled":  # one coincidence bit the design cannot give
            coinc = want.stack["m_coinc"]
            f, p = np.argwhere(coinc == 0)[-1]
            coinc[f, p] = 1
        cases.update(case_arrays(name, raw, held, masks[name], want))
    return cases


@pytest.mark.parametrize("spoil", [False, True])
def test_the_flight_trigger_in_verilator_equals_its_software(tmp_path, spoil):
    golden = small_golden()
    flight = small_flight(golden, None)
    cases = _cases(flight, golden, spoil)
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
