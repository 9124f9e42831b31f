"""The trigger core's requantization at every shift a trained model gives, 0 (the accumulator
is the activation, clipped) and left shifts (a layer whose activation step is finer than
its accumulator's) included, in Amaranth's simulator against the golden scoring."""

import numpy as np
import pytest

from tests.core_stream import stream_beats
from tests.golden_models import random_golden
from uvhunt.detection.scoring import window_codes
from uvhunt.firmware_tests.core_reference import CoreReference
from uvhunt.hls.core_build import core_model, make_core
from uvhunt.quant.preprocess import Preprocessing

PIXELS, FRAMES = 3, 52


@pytest.mark.parametrize("shifts", [(6, 0), (0, 3), (1, 0), (0, -1), (-2, 0), (0, -9)])
def test_every_score_equals_the_golden_one(shifts):
    golden = random_golden((48, 4, 4, 1), 3, 8, shifts, seed=sum(shifts) % 97)
    rng = np.random.default_rng(abs(len(shifts) + shifts[0]))
    raw = rng.poisson(16_384, (FRAMES, PIXELS)).astype(np.int64)
    raw[40:46, 1] += 6_000  # a bump
    raw[20:, 2] = 0  # zeros
    inputs = window_codes(np.ascontiguousarray(raw.T, dtype=np.int32), Preprocessing(), 48)
    inputs = inputs.reshape(-1, 48)
    unrounded = [i for i, s in enumerate(shifts) if s <= 0]  # shift 0 or a left shift
    for index in unrounded:  # unit 0 centred on 128 (× 2**-shift around it), inside 0…255
        layer, lift = golden.layers[index], -shifts[index]
        into = inputs if index == 0 else golden.trace(inputs)["activations"][index - 1]
        layer.weight[:, 0] = 1
        layer.bias[0] = (128 >> lift) - int(np.median(into.sum(axis=1)))
        layer.bias[1] = 20_000  # unit 1: beyond 255
        layer.bias[2] = -20_000  # unit 2: below 0
        golden.layers[index + 1].weight[0, :] = 1  # unit 0 reaches the score
    golden = golden.compile()
    reference = CoreReference(golden, Preprocessing())
    scores = reference.scores(raw)
    thresholds = np.full(FRAMES, int(np.median(scores[47:])))
    core = make_core(core_model(golden, Preprocessing()), PIXELS, 2)
    got = stream_beats(core, raw, thresholds, ("m_score", "m_trig"))
    want = reference.expected(raw, thresholds, np.zeros(PIXELS, bool))
    np.testing.assert_array_equal(got[..., 0], scores)
    np.testing.assert_array_equal(got[..., 1], want.trigger)
    for index in unrounded:  # each unrounded layer met every case (shift −9: all or nothing)
        acts = golden.trace(inputs)["activations"][index]
        assert (acts == 0).any() and (acts == 255).any()
        assert ((acts > 0) & (acts < 255)).any() == (shifts[index] > -8)


def test_a_hidden_layer_without_a_power_of_two_scale_is_refused():
    golden = random_golden((48, 4, 1), 3, 6, (2,), seed=2)
    with pytest.raises(ValueError, match="8-bit unsigned activations"):
        core_model(golden, Preprocessing())
