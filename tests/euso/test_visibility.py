import numpy as np
import pytest

from uvhunt.euso.session import SessionSimulator
from uvhunt.euso.visibility import RUN_FRAMES, meteor_visibility, ratios


def test_one_pixel_five_frames_both_ratios_by_hand():
    signal, noise = np.full((5, 1), 100.0), np.full((5, 1), 400.0)
    seen = ratios(signal, noise)
    assert seen.pixel == pytest.approx(500 / np.sqrt(2000), rel=1e-12)
    assert seen.matched == pytest.approx(np.sqrt(5 * 100**2 / 400), rel=1e-12)


def test_light_over_two_pixels_adds_to_the_matched_ratio_only():
    signal, noise = np.zeros((8, 2)), np.full((8, 2), 400.0)
    signal[0:5, 0], signal[3:8, 1] = 100.0, 50.0
    seen = ratios(signal, noise)
    assert RUN_FRAMES == 5
    assert seen.pixel == pytest.approx(500 / np.sqrt(2000), rel=1e-12)  # pixel 0's run
    assert seen.matched == pytest.approx(np.sqrt(125 + 31.25), rel=1e-12)


def test_the_best_run_is_found_and_frames_without_light_count_as_noise():
    signal, noise = np.zeros((9, 1)), np.full((9, 1), 100.0)
    signal[[1, 6, 7], 0] = 60.0  # frames 3…7 hold two of them
    assert ratios(signal, noise).pixel == pytest.approx(120 / np.sqrt(500), rel=1e-12)


def test_dead_pixels_and_light_on_nothing_see_nothing():
    signal, noise = np.full((6, 2), 100.0), np.full((6, 2), 400.0)
    noise[:, 1] = 0.0  # a dead pixel: nothing expected, its light not detected
    alone = ratios(signal[:, :1], noise[:, :1])
    assert ratios(signal, noise) == alone
    empty = ratios(np.zeros((6, 1)), np.full((6, 1), 400.0))
    assert (empty.pixel, empty.matched) == (0.0, 0.0)


def test_a_meteor_shorter_than_the_run_sums_what_it_has():
    seen = ratios(np.full((3, 1), 90.0), np.full((3, 1), 100.0))
    assert seen.pixel == pytest.approx(270 / np.sqrt(300), rel=1e-12)


def test_a_session_s_meteors_match_the_truth_it_writes(small_config):
    """The matched ratio from the session's own truth (every pixel-frame where the meteor
    brings at least 1 count, with the expected counts of everything there, in float32) is
    the ratio less the entries under 1 count: never above it, and within 1 % of it for
    every meteor a trigger could see (over 3 σ); no single-pixel run beats the matched
    filter."""
    simulator = SessionSimulator(small_config, seed=11)
    seen = meteor_visibility(simulator)
    meteors = {e.id: e for e in simulator.events if e.kind == "meteor"}
    assert set(seen) == set(meteors)
    squares = np.zeros(len(simulator.events))
    for chunk in simulator.chunks():
        t = chunk.truth
        np.add.at(squares, t.event, t.counts.astype(float) ** 2 / (t.expected - t.counts))
    for i, record in meteors.items():
        assert seen[i].matched >= seen[i].pixel
        from_truth = np.sqrt(squares[i])
        assert from_truth <= seen[i].matched * (1 + 1e-6)
        if seen[i].matched > 3:
            assert from_truth >= 0.99 * seen[i].matched
        if not record.in_view:
            assert (seen[i].pixel, seen[i].matched) == (0.0, 0.0)
    visible = [s.pixel for s in seen.values() if s.pixel > 0]
    assert len(visible) >= 5 and max(visible) > 20  # the fixture holds bright meteors
