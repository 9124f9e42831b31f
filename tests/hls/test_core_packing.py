"""Two products per multiplier: what must fit the packed field is each unit's own accumulator,
bounded by its weights, not the worst case of the weight width. 6-bit weights (whose worst case
overflows 48 inputs) map when the trained weights fit, score exactly, and are refused when not."""

import numpy as np
import pytest

from tests.core_stream import stream_beats
from tests.golden_models import random_golden
from uvhunt.detection.scoring import window_codes
from uvhunt.firmware_tests.core_reference import CoreReference
from uvhunt.hls.core_build import core_model, make_core
from uvhunt.quant.preprocess import Preprocessing

PIXELS, FRAMES = 3, 52


def _six_bit_golden(seed):
    golden = random_golden((48, 4, 4, 1), 6, 8, (6, 5), seed=seed)
    assert 48 * 31 * 128 > (1 << 17)  # the width's worst case does not fit k = 18
    return golden


def test_six_bit_weights_that_fit_score_exactly():
    golden = _six_bit_golden(seed=6)
    layer = golden.layers[0]
    layer.weight[:, 1] = np.where(np.arange(48) < 33, -31, 0)  # at the field's edge:
    assert 33 * 31 * 128 <= (1 << 17) - 1  # 33 × 3,968 = 130,944 of 131,071
    golden = golden.compile()
    rng = np.random.default_rng(6)
    raw = rng.poisson(16_384, (FRAMES, PIXELS)).astype(np.int64)
    raw[30:50, 0] += 9_000  # a long bright bump
    raw[:, 2] = 0  # dark, then a step to saturation: unit 1 meets the field's edge
    raw[36:, 2] = 60_000
    reference = CoreReference(golden, Preprocessing())
    scores = reference.scores(raw)
    thresholds = np.full(FRAMES, int(np.median(scores[47:])))
    core = make_core(core_model(golden, Preprocessing()), PIXELS, 2)
    assert core.wbits == 6 and core.k == 18
    got = stream_beats(core, raw, thresholds, ("m_score", "m_trig"))
    want = reference.expected(raw, thresholds, np.zeros(PIXELS, bool))
    np.testing.assert_array_equal(got[..., 0], scores)
    np.testing.assert_array_equal(got[..., 1], want.trigger)
    inputs = window_codes(np.ascontiguousarray(raw.T, dtype=np.int32), Preprocessing(), 48)
    assert (inputs.reshape(-1, 48) @ layer.weight[:, 1]).max() == 130_944  # the edge, met


def test_weights_whose_accumulator_overflows_the_field_are_refused():
    golden = _six_bit_golden(seed=7)
    golden.layers[0].weight[:, 3] = -31  # 48 × 31 × 128 = 190,464 > 2**17 - 1
    golden = golden.compile()
    with pytest.raises(ValueError, match=r"layer 0: packed accumulator range .* does not fit"):
        make_core(core_model(golden, Preprocessing()), PIXELS, 2)
