"""The event level of the leave-one-session-out evaluation: each fold's held-out session scanned
whole by the QAT MLP (its golden model), the baseline and the conventional trigger."""

import csv
import math

import numpy as np
import pytest

from tests.fast_training import fast_train_config
from uvhunt.detection import event_evaluation as ev
from uvhunt.detection.event_evaluation_report import write_event_report
from uvhunt.detection.scoring import NO_WINDOW
from uvhunt.euso.window_store import open_window_dataset
from uvhunt.quant.baselines import fit_baselines
from uvhunt.quant.config import ModelConfig
from uvhunt.quant.data import SessionSampler
from uvhunt.quant.evaluation import FoldModels
from uvhunt.quant.training import prepare, scores, train

FAST = fast_train_config(negatives=2000, max_epochs=3, hard=300)
CONFIG = ModelConfig(hidden=(8,))
HELD_OUT = 1


@pytest.fixture(scope="module")
def fold(window_folder):
    """One fold's models, trained as ``evaluate_fold`` trains them (small)."""
    sampler = SessionSampler(open_window_dataset(window_folder))
    rng = np.random.default_rng([FAST.seed, HELD_OUT])
    others = [s for s in sampler.labelled_sessions if s != HELD_OUT]
    training = sampler.draw(others, FAST.negatives, rng)
    test = sampler.draw([HELD_OUT], 1000, rng)
    train_inputs, test_inputs = prepare(training, CONFIG), prepare(test, CONFIG)
    result = train(train_inputs, CONFIG, FAST)
    fitted = fit_baselines(train_inputs.real, training.label, training.session, FAST.seed)
    return FoldModels(
        HELD_OUT,
        others,
        result.quant_model,
        {ev.BASELINE: fitted[ev.BASELINE]},
        test_inputs.integer,
        scores(result.quant_model, test_inputs.integer),
    )


@pytest.fixture(scope="module")
def hook(window_folder, tmp_path_factory):
    return ev.prepare(window_folder, CONFIG, tmp_path_factory.mktemp("candidates"), workers=1)


@pytest.fixture(scope="module")
def figures(hook, fold):
    return hook(fold)


def test_the_fold_golden_model_equals_brevitas(figures):
    assert figures["golden_compared"] > 0 and figures["golden_mismatches"] == 0


def test_every_method_has_an_operating_point_and_a_curve(figures, fold):
    assert set(figures["methods"]) == set(ev.METHODS)
    for name, m in figures["methods"].items():
        held = m["held_out"]
        assert held["false_events_per_hour"] >= 0 and held["hours"] > 0, name
        assert 0 <= held["meteors_caught"] <= held["meteors"]
        assert all(0 <= r["caught"] <= r["meteors"] for r in held["by_magnitude"])
        assert math.isfinite(m["threshold"])
        # the operating threshold holds its rate on the training sessions
        assert m["training"]["false_events_per_hour"] <= ev.DEFAULT_FALSE_EVENTS_PER_HOUR
        rates = [p["rate"] for p in m["roc"]]
        assert rates == list(ev.EVENT_RATES)
        for p in m["roc"]:
            assert p["false_events_per_hour"] <= p["rate"] + 1e-9
            assert 0 <= p["meteors_caught"] <= p["meteors"]
        thresholds = [p["threshold"] for p in m["roc"]]
        assert thresholds == sorted(thresholds, reverse=True)  # a higher rate, a lower bar
    assert (
        figures["candidate_check"]["outside_candidates"]
        <= figures["candidate_check"]["above_threshold"]
    )


def test_the_same_fold_gives_the_same_numbers(hook, fold, figures):
    again = hook(fold)
    assert {**again, "seconds": 0} == {**figures, "seconds": 0}


def test_the_conventional_trigger_is_tuned_on_training_sessions_only(hook, fold, figures):
    """Wrecking the held-out session's conventional candidates changes its held-out figures,
    never the tuning."""
    path = f"{hook.candidates}/{HELD_OUT}.npz"
    with np.load(path) as data:
        saved = dict(data)
    try:
        np.savez(path, **{k: v[:1] for k, v in saved.items()})
        wrecked = hook(fold)
    finally:
        np.savez(path, **saved)
    assert wrecked["conventional_tuning"] == figures["conventional_tuning"]
    assert wrecked["conventional_trigger"] == figures["conventional_trigger"]
    tuning = figures["conventional_tuning"]
    assert len(tuning) == len(ev.conventional_grid())
    best = max(r["meteors_caught"] for r in tuning)
    trigger = figures["conventional_trigger"]
    (chosen,) = [r for r in tuning if {k: r[k] for k in trigger} == trigger]
    assert chosen["meteors_caught"] == best


def test_the_report_sums_the_folds(figures, tmp_path):
    (tmp_path / "report.md").write_text("# Leave-one-session-out evaluation\n")
    info = write_event_report([figures, figures], tmp_path, ev.DEFAULT_FALSE_EVENTS_PER_HOUR)
    for name in ev.METHODS:
        m = info["methods"][name]
        one = figures["methods"][name]["held_out"]
        assert m["meteors"] == 2 * one["meteors"] and m["false_events"] == 2 * one["false_events"]
        assert m["false_events_per_hour"] == pytest.approx(one["false_events_per_hour"])
        assert set(m) >= {"false_events_per_hour", "efficiency_by_magnitude", "threshold"}
        assert all(0 <= v <= 1 for v in m["efficiency_by_magnitude"].values())
    with open(tmp_path / "event_roc.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:5] == ["method", "rate", "magnitude", "meteors", "caught"]
    assert {r["method"] for r in rows} == set(ev.METHODS)
    assert all(int(r["caught"]) <= int(r["meteors"]) for r in rows)
    assert (tmp_path / "event_roc.png").stat().st_size > 0
    assert "## Event level" in (tmp_path / "report.md").read_text()


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_the_baseline_scan_scores_every_window_as_alone(hook, fold, threads, monkeypatch):
    """The held-out scan's running-sum residuals give each window the score the baseline
    gives that window alone (and NaN before the first full window), however many threads
    share the pixels."""
    monkeypatch.setattr(ev, "SCAN_THREADS", threads)
    from numpy.lib.stride_tricks import sliding_window_view

    from uvhunt.euso.readers import open_movie
    from uvhunt.quant.preprocess import movie_series

    movie = open_movie(hook.movies[HELD_OUT])
    series = movie_series(movie)[:, :250]
    p, length = CONFIG.preprocessing, CONFIG.length
    entry = fold.baselines[ev.BASELINE]
    got = ev.baseline_scan(entry, series, p, length).reshape(250, -1)
    windows = sliding_window_view(series, length, axis=1).reshape(-1, length)
    alone = ev.baseline_scores(entry, windows, p).reshape(len(series), -1).T
    assert np.isnan(got[: length - 1]).all()
    np.testing.assert_array_equal(got[length - 1 :], alone.astype(np.float32))


def test_the_qat_scan_does_not_depend_on_its_threads(hook, fold, monkeypatch):
    """A session's QAT scan on one thread and on several: equal integers, every window."""
    from uvhunt.euso.readers import open_movie

    movie = open_movie(hook.movies[HELD_OUT])
    golden = ev.fold_golden(fold.quant_model, CONFIG)
    monkeypatch.setattr(ev, "SCAN_THREADS", 1)
    one = ev.qat_scan(movie, golden, CONFIG)
    monkeypatch.setattr(ev, "SCAN_THREADS", 2)
    two = ev.qat_scan(movie, golden, CONFIG)
    assert one.shape == (movie.frames, 48, 48) and (one[CONFIG.length - 1 :] != NO_WINDOW).all()
    np.testing.assert_array_equal(one, two)
