"""The trigger core's peak gate in Amaranth's simulator (a small core, a few pixels): its S,
centre frame, V and two bits equal ``detection.peak_gate``'s integers on every window, with
both gate threshold codes changing between frames among the windows' own codes (so a code
equal to the threshold, which must not trigger, is met; and for the low code, one just above
it), on a bump, noise, and saturating extremes."""

import inspect

import numpy as np
import pytest

from tests.core_stream import stream_beats
from tests.golden_models import random_golden
from uvhunt.detection.peak_gate import PeakGateTrigger
from uvhunt.firmware_tests.core_reference import GATE_NEVER, CoreReference
from uvhunt.hls.core_build import core_model, make_core
from uvhunt.hls.trigger_core import TriggerCore
from uvhunt.quant.preprocess import MAX_RAW, Preprocessing

FRAMES = 62
"""15 frames of full windows, so a bump crosses the gate's edges."""
PORTS = (
    "m_gate_peak",
    "m_gate_centre",
    "m_gate_spread",
    "m_gate_trig",
    "m_window_valid",
    "m_gate_low",
)


@pytest.fixture(scope="module")
def golden():
    return random_golden((48, 4, 4, 1), 5, 8, (6, 3), seed=11)


def test_the_core_gate_equals_the_integer_rule(golden):
    rng = np.random.default_rng(4)
    raw = rng.poisson(16_384, (FRAMES, 4)).astype(np.int64)
    raw[40:45, 0] += np.array([1, 3, 5, 3, 1]) * 900  # a bump passing through the gate
    raw[:, 2] = rng.choice([0, MAX_RAW], FRAMES)  # full swings: saturating inputs
    raw[30:, 3] += 200_000  # a step beyond the history's clip
    # pixel 1's first window: q = ±1, 24 of each, five +1 at frames 20…24: S = 5, V = 48², a
    # code of exactly 128 (2**8·L²·S² = 128·25·(V + L²)): at K = 127 the two sides are equal
    e = np.zeros(48, np.int64)
    e[0:20:2] = e[20:25] = e[26:42:2] = e[47] = 2
    raw[:48, 1] = (500 + e) << 5
    preprocessing = Preprocessing()
    reference = CoreReference(golden, preprocessing)
    codes = reference.gate_parts(raw)[3]
    assert codes[47, 1] == 128
    levels = np.unique(codes[47:][codes[47:] >= 0])
    gate_thresholds = rng.choice(np.append(levels, [0, GATE_NEVER]), FRAMES)
    # the low code: a code of the frame's own windows (a tie) or one below it (just above)
    gate_lows = np.array([GATE_NEVER if (c < 0).all() else rng.choice(c[c >= 0]) for c in codes])
    gate_lows -= rng.integers(0, 2, FRAMES) * (gate_lows != GATE_NEVER)
    gate_lows[rng.choice(np.arange(47, FRAMES), 4, replace=False)] = [0, 0, GATE_NEVER, GATE_NEVER]
    gate_thresholds[47] = gate_lows[47] = 127  # equal sides: both bits fire
    thresholds = np.zeros(FRAMES, np.int64)
    core = make_core(core_model(golden, preprocessing), 4, 2)
    got = stream_beats(core, raw, thresholds, PORTS, gate_thresholds, None, gate_lows)
    want = reference.expected(raw, thresholds, None, gate_thresholds, gate_lows)
    np.testing.assert_array_equal(got[..., 4], np.repeat(want.window_valid[:, None], 4, 1))
    np.testing.assert_array_equal(got[..., 0], want.gate_peak)
    np.testing.assert_array_equal(got[..., 1], want.gate_centre)
    np.testing.assert_array_equal(got[..., 2], want.gate_spread)
    np.testing.assert_array_equal(got[..., 3], want.gate_trigger)
    np.testing.assert_array_equal(got[..., 5], want.gate_low)
    # the stimulus reached what it was built for
    assert want.gate_trigger.any() and not want.gate_trigger.all()
    assert want.gate_low.any() and not want.gate_low.all()
    assert want.gate_trigger[47, 1] and want.gate_low[47, 1]
    assert (want.gate_low != want.gate_trigger).any()  # the two bits apart
    assert (codes[47:] == gate_thresholds[47:, None]).any()  # a tie: must not trigger
    assert (codes[47:] == gate_lows[47:, None]).any()  # the low code's tie
    assert (codes[47:] == gate_lows[47:, None] + 1).any()  # just above it: must trigger
    assert codes[47:, 0].max() > codes[47:, 1].max()  # the bump beats the noise


def test_the_core_gate_is_the_detection_rule():
    defaults = inspect.signature(TriggerCore.__init__).parameters
    trigger = PeakGateTrigger()
    assert defaults["gate"].default == trigger.gate
    assert defaults["gate_fraction_bits"].default == trigger.fraction_bits


def test_a_6_bit_network_reads_clipped_codes_beside_the_8_bit_gate():
    """A network on 6-bit inputs with the peak input: the core clips the 8-bit codes once more
    for the network and finds the network's own ⌊S/5⌋ on the clipped codes, while the gate
    keeps the 8-bit codes: every score and every gate integer equals the reference's, on
    bumps high enough that the 6-bit codes saturate (so the two S differ)."""
    golden = random_golden((49, 4, 4, 1), 5, 8, (6, 3), seed=14, input_bits=6)
    preprocessing = Preprocessing(bits=6, peak_input=True)
    rng = np.random.default_rng(5)
    raw = rng.poisson(16_384, (FRAMES, 4)).astype(np.int64)
    raw[40:45, 0] += np.array([1, 3, 5, 3, 1]) * 900  # codes to about 140: both clips bite
    raw[40:45, 1] += np.array([1, 3, 5, 3, 1]) * 384  # codes to 60: S 117 on 6 bits, 156 on 8
    raw[:, 2] = rng.choice([0, MAX_RAW], FRAMES)  # full swings: saturating inputs
    raw[30:, 3] += 200_000  # a step beyond the history's clip
    reference = CoreReference(golden, preprocessing)
    codes = reference.gate_parts(raw)[3]
    gate_thresholds = rng.choice(np.append(np.unique(codes[47:][codes[47:] >= 0]), 0), FRAMES)
    scores = reference.scores(raw)[47:]
    thresholds = rng.choice(np.unique(scores), FRAMES)  # ties met too
    gate_lows = rng.choice(np.unique(codes[47:][codes[47:] >= 0]), FRAMES)
    core = make_core(core_model(golden, preprocessing), 4, 2)
    ports = ("m_score", "m_trig", *PORTS)
    got = stream_beats(core, raw, thresholds, ports, gate_thresholds, None, gate_lows)
    want = reference.expected(raw, thresholds, None, gate_thresholds, gate_lows)
    np.testing.assert_array_equal(got[..., 0], want.score)
    np.testing.assert_array_equal(got[..., 1], want.trigger)
    np.testing.assert_array_equal(got[..., 2], want.gate_peak)
    np.testing.assert_array_equal(got[..., 3], want.gate_centre)
    np.testing.assert_array_equal(got[..., 4], want.gate_spread)
    np.testing.assert_array_equal(got[..., 5], want.gate_trigger)
    np.testing.assert_array_equal(got[..., 7], want.gate_low)
    # the stimulus reached what it was built for: the gate's S beyond any 6-bit sum, and
    # scores that the gate's S, clipped, would change as the network's peak input
    assert want.gate_peak.max() > 5 * 31
    inputs = reference._inputs(raw)
    wrong = inputs.copy()
    wrong[..., 48] = np.clip(want.gate_peak[47:].T // 5, -32, 31)
    scored = [golden.predict_int(x.reshape(-1, 49)) for x in (inputs, wrong)]
    assert (scored[0] != scored[1]).any()
    assert want.trigger.any() and not want.trigger.all() and want.gate_trigger.any()
    assert want.gate_low.any() and not want.gate_low.all()
