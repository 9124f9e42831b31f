"""The trigger core's pixel mask in Amaranth's simulator (a small core, a few pixels): a masked
pixel's trigger bit is always 0 while its score is still the golden one, frame counts skip
it, and a mask written through the port takes effect from the next frame on."""

import numpy as np
import pytest

from tests.core_stream import stream_beats
from tests.golden_models import random_golden
from uvhunt.firmware_tests.core_reference import CoreReference
from uvhunt.hls.core_build import core_model, make_core
from uvhunt.quant.preprocess import Preprocessing

PIXELS, FRAMES, LATER = 3, 49, 2
"""Two frames with windows under the initial mask, then ``LATER`` under the written one."""


@pytest.fixture(scope="module")
def golden():
    return random_golden((48, 4, 4, 1), 5, 8, (6, 3), seed=7)


def simulate(core, raw, thresholds, writes_before: dict[int, list[tuple[int, int]]]):
    """Score, trigger bit, count and window-valid of every beat of ``raw`` (frames, pixels);
    ``writes_before[t]``: (pixel, bit) mask writes before frame ``t``."""
    ports = ("m_score", "m_trig", "m_count", "m_window_valid")
    return stream_beats(core, raw, thresholds, ports, writes_before=writes_before)


def test_masked_pixels_never_trigger_and_a_written_mask_takes_effect(golden):
    rng = np.random.default_rng(3)
    frames = FRAMES + LATER
    raw = rng.poisson(16_384, (frames, PIXELS)).astype(np.int64)
    reference = CoreReference(golden, Preprocessing())
    scores = reference.scores(raw)
    thresholds = np.full(frames, int(np.min(scores[47:])) - 1)  # every window passes unmasked
    first, later = np.array([0, 1, 0], bool), np.array([1, 0, 0], bool)
    model = core_model(golden, Preprocessing())
    core = make_core(model, PIXELS, 2, first)
    writes = {FRAMES: [(0, 1), (1, 0)]}  # mask pixel 0, unmask pixel 1, between frames
    got = simulate(core, raw, thresholds, writes)
    want_first = reference.expected(raw, thresholds, first)
    want_later = reference.expected(raw, thresholds, later)
    rows = np.arange(frames) < FRAMES
    trigger = np.where(rows[:, None], want_first.trigger, want_later.trigger)
    np.testing.assert_array_equal(got[..., 3], np.repeat(want_first.window_valid[:, None], 3, 1))
    np.testing.assert_array_equal(got[..., 0], scores)  # masked pixels keep their scores
    np.testing.assert_array_equal(got[..., 1], trigger)
    np.testing.assert_array_equal(got[..., 2], np.cumsum(trigger, axis=1))
    assert trigger[47:FRAMES, 1].sum() == 0 and trigger[FRAMES:, 1].all()  # masked, then not
    assert trigger[47:FRAMES, 0].all() and trigger[FRAMES:, 0].sum() == 0


def test_a_mask_of_the_wrong_size_is_refused(golden):
    with pytest.raises(ValueError, match="the mask has 2 pixels, not 3"):
        make_core(core_model(golden, Preprocessing()), PIXELS, 2, np.zeros(2, bool))
