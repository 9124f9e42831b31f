"""The small flight trigger of the tests (a 48-4-4-1 core and the small track stack on 3 × 3
pixels, 66 frames of a nasty sky, two pixels excluded) and its thresholds, for its Amaranth
test and its Verilator co-simulation."""

import numpy as np

from tests.golden_models import random_golden
from tests.stack_skies import SMALL, nasty_sky
from uvhunt.detection.track_stack_integer import NO_SCORE
from uvhunt.firmware_tests.core_reference import CoreReference
from uvhunt.firmware_tests.flight_reference import case_arrays, expected_flight
from uvhunt.firmware_tests.flight_tests import TESTS
from uvhunt.hls.core_build import core_model, make_core
from uvhunt.hls.flight_trigger import FlightTrigger
from uvhunt.hls.stack_trigger import StackTrigger
from uvhunt.quant.preprocess import Preprocessing

SIDE, FRAMES, LANES = 3, 66, 2
REACH = (4, 1)
"""The coincidence's frames and pixels (the small stack's Z leaves 8 frames after its frame)."""
EXCLUDED = (4, 7)
"""Pixels excluded from triggering."""


def small_golden():
    return random_golden((48, 4, 4, 1), 5, 8, (6, 3), seed=11)


def small_raw() -> np.ndarray:
    """(FRAMES, SIDE²) raw counts."""
    return nasty_sky(FRAMES, SIDE * SIDE, SMALL, seed=2)


def excluded_pixels() -> np.ndarray:
    excluded = np.zeros(SIDE * SIDE, bool)
    excluded[list(EXCLUDED)] = True
    return excluded


def small_flight(golden, built_mask: np.ndarray | None) -> FlightTrigger:
    """The flight trigger of ``golden``; ``built_mask``: pixels excluded when built (None: all
    live until the mask port says otherwise)."""
    core = make_core(core_model(golden, Preprocessing()), SIDE * SIDE, LANES, built_mask)
    stack = StackTrigger.for_stack(SMALL, SIDE, built_mask, coincidence=REACH)
    return FlightTrigger(core, stack)


def thresholds(reference: CoreReference, raw: np.ndarray, excluded: np.ndarray) -> dict:
    """The five held thresholds, at quantiles of what ``raw`` gives, so that each output
    fires on some beats and not on others, the coincidence's below the stack's."""
    codes = reference.gate_parts(raw)[3]
    positive = codes[codes >= 0]
    raw48 = np.zeros((FRAMES, 48, 48), np.int64)
    raw48[:, :SIDE, :SIDE] = raw.reshape(FRAMES, SIDE, SIDE)
    excluded48 = np.zeros((48, 48), bool)
    excluded48[:SIDE, :SIDE] = excluded.reshape(SIDE, SIDE)
    z = SMALL.stacked(raw48, excluded48, NO_SCORE, np.int32)[:, :SIDE, :SIDE]
    scored = z[z != NO_SCORE]
    return {
        "threshold": int(np.median(reference.scores(raw)[47:])),
        "gate_threshold": int(np.quantile(positive, 0.9)),
        "gate_low_threshold": int(np.quantile(positive, 0.5)),
        "stack_threshold": int(np.quantile(scored, 0.9)),
        "coincidence_threshold": int(np.quantile(scored, 0.5)),
    }


def small_cases(flight, golden, spoil=False) -> dict:
    """The co-simulation's two streams (``flight_tests.TESTS``) for the small design
    ``flight`` of ``golden``: the excluded pixels, then another mask; with ``spoil``, one
    coincidence bit of the stalled stream expected where the design cannot give it."""
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
