"""Trigger quality at event level: the conventional trigger's significance, false events per
hour against meteors caught by magnitude, and a threshold for a false-event rate."""

import math

import numpy as np
import pytest
from scipy import stats

from uvhunt.console import quality_sentence
from uvhunt.detection.conventional import ConventionalTrigger, running_sum
from uvhunt.detection.event_quality import (
    above,
    combined,
    detections,
    either,
    events_at,
    fast_outcome,
    first_detections,
    outcome_of,
    poisson_upper_limit,
    quality,
    threshold_for_false_rate,
    top_detections,
)
from uvhunt.detection.events import Detections, group, match_truth
from uvhunt.euso.events import EventRecord
from uvhunt.euso.timing import D3_S

FRAMES = 400


def _truth():
    meteor = EventRecord(1, "meteor", 200, 210, 10.0, 10.0, 10.0, 15.0, magnitude=4.5)
    faint = EventRecord(2, "meteor", 300, 305, 30.0, 30.0, 30.0, 32.0, magnitude=5.5)
    city = EventRecord(3, "city", 0, FRAMES - 1, 40.0, 5.0, 40.0, 5.0)
    return [meteor, faint, city]


def _scores():
    """Scores with a meteor track (frames 200–210, row 10, cols 10–15), a fainter meteor
    under the threshold, a city pixel and a lone noise pixel above it."""
    s = np.zeros((FRAMES, 48, 48), np.float32)
    for k, t in enumerate(range(200, 211)):
        s[t, 10, 10 + k // 2] = 9.0
    s[300:306, 30, 30] = 2.0  # the faint meteor: below 5
    s[100:104, 40, 5] = 7.0  # the city light
    s[50, 20, 20] = 6.0  # noise
    return s


def test_false_events_per_hour_and_meteors_by_magnitude():
    events = outcome_of(events_at(_scores(), 5.0, _truth(), length=4))
    q = quality(events, _truth(), FRAMES)
    assert q["events"] == 3 and q["false_events"] == 2
    assert math.isclose(q["false_events_per_hour"], 2 / (FRAMES * D3_S / 3600))
    assert q["meteors"] == 2 and q["meteors_caught"] == 1
    assert q["efficiency_by_magnitude"] == {"+4…+5": 1.0, "+5…+6": 0.0}
    # at a lower threshold the faint meteor is caught too
    low = quality(outcome_of(events_at(_scores(), 1.0, _truth(), length=4)), _truth(), FRAMES)
    assert low["meteors_caught"] == 2 and low["false_events"] == 2
    # meteors that end before the first scored frame are not counted
    late = quality(events, _truth(), FRAMES, first_frame=250)
    assert late["meteors"] == 1 and late["false_events"] == 2


def test_meteors_that_lit_no_pixel_are_out_of_view_not_missed():
    events = outcome_of(events_at(_scores(), 5.0, _truth(), length=4))
    outside = EventRecord(4, "meteor", 100, 120, -3.0, 20.0, -2.5, 24.0, magnitude=3.5)
    outside.peak_pixel_counts = 0.0  # drawn beyond the focal surface's edge
    dim = EventRecord(5, "meteor", 100, 120, 1.0, 20.0, 1.5, 24.0, magnitude=3.5)
    dim.peak_pixel_counts = 0.5  # some light, however little: a meteor the trigger missed
    q = quality(events, _truth() + [outside, dim], FRAMES)
    assert q["meteors"] == 3 and q["meteors_out_of_view"] == 1
    assert q["by_magnitude"][0] == {"magnitude": "+3…+4", "meteors": 1, "caught": 0}
    # unknown light (NaN, the default) counts as in view
    assert quality(events, _truth(), FRAMES)["meteors_out_of_view"] == 0
    both = combined([q, q])
    assert both["meteors"] == 6 and both["meteors_out_of_view"] == 2
    assert "1 more out of view, not counted" in quality_sentence(q)


def test_combined_quality_adds_hours_and_meteors():
    q = quality(outcome_of(events_at(_scores(), 5.0, _truth(), length=4)), _truth(), FRAMES)
    both = combined([q, q])
    assert both["hours"] == 2 * q["hours"] and both["false_events"] == 4
    assert math.isclose(both["false_events_per_hour"], q["false_events_per_hour"])
    assert both["by_magnitude"][0] == {"magnitude": "+4…+5", "meteors": 2, "caught": 2}


def test_threshold_for_a_false_event_rate():
    movies = [(detections(_scores(), 0.0), _truth(), FRAMES)]
    hours = FRAMES * D3_S / 3600
    threshold, figures = threshold_for_false_rate(movies, 1.5 / hours, length=4)
    assert threshold == 6.0  # the noise pixel (6.0) passes no more, the city (7.0) still does
    assert figures["false_events"] == 1 and figures["meteors_caught"] == 1
    threshold, figures = threshold_for_false_rate(movies, 0.0, length=4)
    assert threshold == 7.0 and figures["false_events"] == 0 and figures["meteors_caught"] == 1


def test_the_threshold_search_finds_the_lowest_passing_score_when_the_count_is_monotone():
    """Isolated detections (one event each, so no grouping wiggles): the galloping search
    must land where an exhaustive scan of every score does, for every rate tried."""
    rng = np.random.default_rng(11)
    n = 300
    frame = np.arange(n) * 6 + 10  # more than the 4-frame gap apart: one event each
    row, col = rng.integers(0, 48, n), rng.integers(0, 48, n)
    score = rng.permutation(n).astype(np.float64)
    found = Detections(frame, row, col, score)
    truth = [  # every third detection lies on a meteor
        EventRecord(
            i, "meteor", int(frame[i]) - 2, int(frame[i]), *[float(row[i]), float(col[i])] * 2
        )
        for i in range(0, n, 3)
    ]
    frames = int(frame[-1]) + 10
    hours = frames * D3_S / 3600

    def false_events(threshold):
        keep = score > threshold
        above = Detections(frame[keep], row[keep], col[keep], score[keep])
        return fast_outcome(above, truth, 4).false_events

    for allowed in (0, 1, 5, 37, 150, 199, 1000):
        threshold, figures = threshold_for_false_rate([(found, truth, frames)], allowed / hours, 4)
        assert threshold == min(t for t in score if false_events(t) <= allowed), allowed
        assert figures["false_events"] == false_events(threshold) <= allowed
    # beside another trigger's detections (the core's other bit), which spend part of the
    # rate whatever the threshold: the lowest score at which the two together stay within it
    other = Detections(frame[:10] + 3, (row[:10] + 24) % 48, col[:10], np.ones(10))
    spent = fast_outcome(other, truth, 4).false_events
    assert 0 < spent < 37

    def together(threshold):
        return fast_outcome(either(above(found, threshold), other), truth, 4).false_events

    for allowed in (spent, spent + 5, 150):
        threshold, figures = threshold_for_false_rate(
            [(found, truth, frames)], allowed / hours, 4, beside=[other]
        )
        assert threshold == min(t for t in score if together(t) <= allowed), allowed
        assert figures["false_events"] == together(threshold) <= allowed
        assert (
            threshold >= threshold_for_false_rate([(found, truth, frames)], allowed / hours, 4)[0]
        )
    # at a confidence: the lowest score whose count's Poisson upper limit is within the rate
    for allowed, confidence in ((3, 0.9), (37, 0.9), (37, 0.5), (150, 0.99)):
        threshold, figures = threshold_for_false_rate(
            [(found, truth, frames)], allowed / hours, 4, confidence=confidence
        )
        assert threshold == min(
            t for t in score if poisson_upper_limit(false_events(t), confidence) <= allowed
        )
        assert poisson_upper_limit(figures["false_events"], confidence) <= allowed
        assert figures["false_events"] < allowed  # the upper limit is above the count


def test_poisson_upper_limits():
    # the mean whose chance of giving at most k events is 1 - confidence
    assert poisson_upper_limit(0, 0.9) == pytest.approx(-np.log(0.1))  # 2.303
    assert poisson_upper_limit(1, 0.9) == pytest.approx(3.8897, abs=1e-4)
    assert poisson_upper_limit(10, 0.5) == pytest.approx(10.668, abs=1e-3)
    for k in (0, 3, 20):
        mean = poisson_upper_limit(k, 0.9)
        assert stats.poisson.cdf(k, mean) == pytest.approx(0.1)
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="confidence"):
            poisson_upper_limit(1, bad)


def test_the_fast_outcome_equals_grouping_and_matching_event_by_event():
    rng = np.random.default_rng(3)
    truth = [
        EventRecord(i, kind, t, t + 20, *rng.uniform(0, 48, 4), magnitude=rng.uniform(2, 7))
        for i, (kind, t) in enumerate(
            zip(rng.choice(["meteor", "city", "ship"], 60), rng.integers(0, 380, 60), strict=True)
        )
    ]
    scores = rng.normal(0, 1, (FRAMES, 48, 48)).astype(np.float32)
    for record in truth[:30]:  # light along half of the tracks
        for k in range(8):
            f = record.start_frame + 2 * k
            r = record.start_row + (record.end_row - record.start_row) * k / 8
            c = record.start_col + (record.end_col - record.start_col) * k / 8
            scores[f, int(r), int(c)] += 6.0
    for threshold in (2.5, 3.5, 4.5, 6.0):
        found = detections(scores, threshold, 10)
        slow = outcome_of(match_truth(group(found, 0, 4), truth, 4))
        assert fast_outcome(found, truth, 4) == slow, threshold
        assert slow.caught and slow.false_events  # both kinds occur


def test_an_event_where_two_meteors_cross_is_tied_to_the_track_nearest_its_peak():
    # a faint meteor listed first passes 1.5 pixels from the peak pixel (20, 30), a bright
    # one through it: the event is the bright one's, by both matchers
    faint = EventRecord(0, "meteor", 90, 140, 21.5, 20.0, 21.5, 40.0, magnitude=5.4)
    bright = EventRecord(1, "meteor", 100, 130, 15.0, 30.0, 25.0, 30.0, magnitude=2.6)
    city = EventRecord(2, "city", 0, 399, 20.0, 30.0, 20.0, 30.0)
    frame = np.arange(110, 116)
    found = Detections(frame, np.full(6, 20), np.full(6, 30), np.array([5, 6, 9, 7, 6, 5]))
    for truth in ([faint, bright], [faint, bright, city], [city, bright, faint]):
        (event,) = match_truth(group(found, 0, 4), truth, 4)
        assert (event.truth_kind, event.truth_id) == ("meteor", 1)
        assert fast_outcome(found, truth, 4).caught == {1}
        assert first_detections(found, truth, 4) == {1: 110}
    # a meteor before a nearer light; two tracks as near: the first listed
    aside = EventRecord(3, "meteor", 100, 130, 15.0, 31.0, 25.0, 31.0, magnitude=4.0)
    twin = EventRecord(4, "meteor", 100, 130, 15.0, 29.0, 25.0, 29.0, magnitude=4.0)
    for truth, want in (([city, aside], 3), ([aside, twin], 3), ([twin, aside], 4)):
        (event,) = match_truth(group(found, 0, 4), truth, 4)
        assert event.truth_id == want and fast_outcome(found, truth, 4).caught == {want}


def test_first_detections_are_each_caught_meteors_earliest_event_by_event():
    rng = np.random.default_rng(5)
    truth = [
        EventRecord(i, kind, t, t + 20, *rng.uniform(0, 48, 4), magnitude=rng.uniform(2, 7))
        for i, (kind, t) in enumerate(
            zip(rng.choice(["meteor", "city"], 60), rng.integers(0, 380, 60), strict=True)
        )
    ]
    scores = rng.normal(0, 1, (FRAMES, 48, 48)).astype(np.float32)
    for record in truth[:30]:
        for k in range(8):
            f = record.start_frame + 2 * k
            r = record.start_row + (record.end_row - record.start_row) * k / 8
            c = record.start_col + (record.end_col - record.start_col) * k / 8
            scores[f, int(r), int(c)] += 6.0
    for threshold in (3.5, 4.5):
        found = detections(scores, threshold, 10)
        events = match_truth(group(found, 0, 4), truth, 4)
        want: dict[int, int] = {}
        for e in events:
            if e.truth_kind == "meteor":
                want[e.truth_id] = min(want.get(e.truth_id, e.first_frame), e.first_frame)
        first = first_detections(found, truth, 4)
        assert first == want and set(first) == fast_outcome(found, truth, 4).caught
        assert any(f > truth[m].start_frame for m, f in first.items())  # not the starts
    assert first_detections(detections(scores, 99.0), truth, 4) == {}


def test_conventional_significance_is_in_sigma_of_poisson_noise():
    rng = np.random.default_rng(5)
    background = 16_384.0  # one count per GTU
    raw = rng.poisson(background, (600, 48, 48)).astype(np.int64)
    raw[400:404, 7, 9] += 4 * 5 * 128  # a 4-frame flash of 5 σ per frame in pixel (7, 9)
    trigger = ConventionalTrigger(frames=4, background=128).validate()
    z = trigger.significance(raw)
    assert np.isnan(z[: trigger.history - 1]).all() and np.isfinite(z[trigger.history - 1 :]).all()
    noise = z[trigger.history - 1 : 390].ravel()
    assert abs(noise.mean()) < 0.02 and abs(noise.std() - 1.0) < 0.02
    assert z[403, 7, 9] > 8.0  # 4 frames × 640 counts over σ √(4 × 16,384) = 256: 10 σ
    assert np.nanmax(ConventionalTrigger(2, 16).significance(np.zeros((40, 3)))) == 0.0  # dark
    with pytest.raises(ValueError, match="sum frames"):
        ConventionalTrigger(frames=0).validate()


def test_conventional_significance_equals_its_definition_frame_by_frame():
    rng = np.random.default_rng(8)
    raw = rng.poisson(300.0, (90, 3, 4)).astype(np.int64)
    raw[:, 0, 0] = 0  # dark throughout
    raw[10:60, 1, 1] = 0  # dark background, then light
    raw[70:73, 2, 3] = 4_194_303  # the instrument's largest count
    raw[20:40, 2, 0] = -5  # not a count: a negative mean, σ NaN, z 0 as in the definition
    for trigger in (
        ConventionalTrigger(4, 16),
        ConventionalTrigger(1, 1),
        ConventionalTrigger(8, 81),
    ):
        n, m = trigger.frames, trigger.background
        expected = np.full(raw.shape, np.nan, np.float32)
        for t in range(trigger.history - 1, len(raw)):
            signal = raw[t - n + 1 : t + 1].sum(axis=0).astype(np.float64)
            mean = raw[t - n - m + 1 : t - n + 1].sum(axis=0) * (n / m)
            with np.errstate(divide="ignore", invalid="ignore"):
                z = np.where(mean > 0, (signal - mean) / np.sqrt(mean), 0.0)
            expected[t] = z
        np.testing.assert_array_equal(trigger.significance(raw), expected)
        shared = trigger.significance(raw, running_sum(raw))  # the grid shares one
        np.testing.assert_array_equal(shared, expected)
    with pytest.raises(ValueError, match="running sum"):
        trigger.significance(raw, running_sum(raw[:-1]))


def test_nan_scores_are_never_candidates_however_many_there_are():
    """A masked pixel's NaN scores must not crowd out the real ones (NaN sorts as the
    largest in numpy's partition)."""
    z = np.full((50, 48, 48), np.nan, np.float32)
    z[:, 10, 10] = np.arange(50, dtype=np.float32)  # one live pixel among masked ones
    z[:, 20, 20] = -np.inf  # a gated-out pixel: a score below every threshold
    top = top_detections(z, 5, first_frame=3)
    np.testing.assert_array_equal(top.frame, [45, 46, 47, 48, 49])
    assert (top.row == 10).all() and (top.col == 10).all()
    assert np.isfinite(top.score).all()


def test_either_bit_is_the_detections_of_the_ored_map():
    """Two triggers' candidates, each cut at its own threshold and ORed (``either``), are the
    pixel-frames of the OR of their maps, in the same order, and so group into the same
    events: the trigger core's two bits, counted from the threshold search's candidates."""
    rng = np.random.default_rng(8)
    a = rng.normal(0, 1, (FRAMES, 48, 48))
    b = rng.integers(-1, 2_000, (FRAMES, 48, 48))
    b[100:110, 5, 5] = 5_000  # overlaps and lone pixels of both
    truth = [EventRecord(0, "meteor", 95, 115, 5, 5, 6, 6, magnitude=4.0)]
    for ta, tb in [(3.0, 1_990), (3.5, 1_995), (9.0, 1_990), (3.0, 10_000)]:
        fired = (a > ta) | (b > tb)
        want = detections(np.where(fired, 1, 0), 0, 10)
        tops = top_detections(a, 20_000, 10), top_detections(b, 20_000, 10)  # past both cuts
        got = either(above(tops[0], ta), above(tops[1], tb))
        for x, y in zip(got.__dict__.values(), want.__dict__.values(), strict=True):
            np.testing.assert_array_equal(x, y)
        assert fast_outcome(got, truth, 48) == fast_outcome(want, truth, 48)
        assert len(want) > 0
