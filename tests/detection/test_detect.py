"""`uvhunt detect`: every pixel's sliding windows scored exactly as the golden model scores
them one by one, the threshold for a false-positive rate, events, and bad input."""

import json
import math
import shutil

import numpy as np
import pytest

import uvhunt.detection.scan as scan
from uvhunt.cli import main
from uvhunt.detection.conventional import ConventionalTrigger
from uvhunt.detection.events import Detections, group
from uvhunt.detection.operating_point import core_thresholds
from uvhunt.detection.scoring import NO_WINDOW, score_movie
from uvhunt.euso.readers import open_movie
from uvhunt.quant.metrics import threshold_at, threshold_for_rate
from uvhunt.quant.preprocess import Preprocessing, raw_counts


def test_streamed_scores_equal_the_golden_model_window_by_window(session_folder, golden):
    movie = open_movie(session_folder)
    prep = Preprocessing()
    scores = np.concatenate([b.scores for b in score_movie(movie, golden, prep, 48)])
    assert scores.shape == (movie.frames, 48, 48) and scores.dtype == np.int32
    assert (scores[:47] == NO_WINDOW).all() and (scores[47:] != NO_WINDOW).all()
    rng = np.random.default_rng(0)
    ends = np.concatenate([[47, movie.frames - 1], rng.integers(47, movie.frames, 300)])
    rows, cols = rng.integers(0, 48, len(ends)), rng.integers(0, 48, len(ends))
    frames = movie.read(0, movie.frames)
    windows = np.stack(
        [frames[t - 47 : t + 1, r, c] for t, r, c in zip(ends, rows, cols, strict=True)]
    )
    expected = golden.predict_int(prep(windows, movie.units))
    np.testing.assert_array_equal(scores[ends, rows, cols], expected)


def test_threshold_leaves_at_most_the_asked_fraction_above():
    bound = 10
    values = np.random.default_rng(1).integers(-bound, bound + 1, 100_000)
    histogram = np.bincount(values + bound, minlength=2 * bound + 1)
    for fpr in (0.3, 0.05, 1e-3, 1e-6):
        level = threshold_for_rate(np.arange(-bound, bound + 1), histogram, fpr)
        assert np.mean(values > level) <= fpr
        assert level == -bound or np.mean(values > level - 1) > fpr  # the smallest such level
        # the same rule from a sample of scores (the evaluation's): the same threshold
        labels = np.zeros(values.size, int)
        assert threshold_at(labels, values.astype(float), fpr) == max(level, values.min())


def test_detections_group_into_moving_events():
    t = np.array([100, 101, 102, 103, 104, 500, 501])
    r = np.array([10, 10, 11, 11, 12, 30, 30])
    c = np.array([5, 6, 7, 8, 9, 40, 40])
    score = np.array([10, 20, 30, 20, 10, 50, 40])
    events = group(Detections(t, r, c, score), exponent=-2, length=48)
    assert len(events) == 2
    still, moving = events  # brightest first
    assert (still.first_frame, still.last_frame, still.pixels, still.windows) == (500, 501, 1, 2)
    assert np.isnan(still.speed_px_per_frame) and still.peak_logit == 12.5
    assert (moving.first_frame, moving.last_frame, moving.pixels) == (100, 104, 5)
    assert moving.start_frame == 100 - 47
    assert moving.speed_px_per_frame == pytest.approx(np.hypot(0.5, 1.0), rel=0.2)
    assert 0 < moving.direction_deg < 45  # towards +column, a little towards +row


def test_detect_writes_events_score_maps_and_pictures(
    session_folder, exported_golden, tmp_path, capsys
):
    out = tmp_path / "det"
    code = main(
        [
            "detect",
            str(session_folder),
            "--export",
            str(exported_golden),
            "--out",
            str(out),
            "--fpr",
            "1e-4",
            "--pictures",
            "2",
            "--conventional",
            "--json",
            "--quiet",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    scores = np.load(out / "scores.npy", mmap_mode="r")
    assert scores.shape == (1024, 48, 48)
    th = summary["threshold"]
    assert th["fraction_above"] <= 1e-4 and th["windows"] == (1024 - 47) * 2304
    assert int((np.asarray(scores) > th["score"]).sum()) == th["windows_above"]
    events = json.loads((out / "events.json").read_text())
    assert (
        len(events) == summary["events"]
        and sum(e["windows"] for e in events) == th["windows_above"]
    )
    assert (out / "events.csv").read_text().startswith("id,first_frame,last_frame")
    assert len(list((out / "events").glob("event_*.png"))) == min(2, len(events))
    assert summary["truth"]["meteors"] > 0
    q = summary["truth"]["quality"]  # event level: false events per hour, meteors by magnitude
    assert q["false_events"] + sum(r["caught"] for r in q["by_magnitude"]) <= len(events)
    assert q["meteors"] <= summary["truth"]["meteors"]
    assert math.isclose(q["hours"], (1024 - 47) * 0.04096 / 3600)
    assert q["false_events"] == sum(1 for e in events if e["truth_kind"] != "meteor")
    c = summary["conventional"]  # the conventional trigger at the network's false-event rate
    assert c["first_frame"] == 131 and c["network"]["meteors"] == c["conventional"]["meteors"]
    assert c["conventional"]["false_events_per_hour"] <= c["network"]["false_events_per_hour"]


def test_detect_uses_the_stored_operating_threshold(
    session_folder, exported_golden, tmp_path, capsys
):
    stored = tmp_path / "export"
    shutil.copytree(exported_golden, stored)
    manifest = json.loads((stored / "manifest.json").read_text())
    operating = {"score": 1234, "false_events_per_hour_target": 10.0, "sessions": ["s"]}
    (stored / "manifest.json").write_text(
        json.dumps({**manifest, "operating_threshold": operating})
    )
    base = ["detect", str(session_folder), "--export", str(stored), "--pictures", "0", "--json"]
    assert main([*base, "--out", str(tmp_path / "a"), "--quiet"]) == 0
    th = json.loads(capsys.readouterr().out)["threshold"]
    assert th["score"] == 1234 and "operating threshold" in th["source"]
    assert main([*base, "--out", str(tmp_path / "b"), "--fpr", "1e-3", "--quiet"]) == 0
    th = json.loads(capsys.readouterr().out)["threshold"]
    assert th["score"] != 1234 and "not the stored operating threshold" in th["source"]


@pytest.mark.parametrize(
    "args, words",
    [
        (["MISSING.npy"], ["MISSING.npy", "fix:"]),
        (["SESSION", "--fpr", "2"], ["must be in (0, 1)", "on the command line: --fpr"]),
        (["SESSION", "--export", "NOWHERE"], ["no usable exported model", "uvhunt export"]),
        (["SHORT.npy"], ["fewer than one window"]),
        (["SESSION", "--mask", "NOMASK.npy"], ["NOMASK.npy", "no such mask file", "--mask"]),
        (["SESSION", "--mask", "SHORT.npy"], ["shape (10, 48, 48), expected (48, 48)"]),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(
    session_folder, exported_golden, tmp_path, capsys, args, words
):
    np.save(tmp_path / "SHORT.npy", np.ones((10, 48, 48), np.float32))
    names = {
        "SESSION": session_folder,
        "MISSING.npy": tmp_path / "MISSING.npy",
        "NOWHERE": tmp_path / "NOWHERE",
        "SHORT.npy": tmp_path / "SHORT.npy",
        "NOMASK.npy": tmp_path / "NOMASK.npy",
    }
    args = [str(names.get(a, a)) for a in args]
    if "--export" not in args:
        args += ["--export", str(exported_golden)]
    code = main(["detect", *args, "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    for word in words:
        assert word in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", ["npy", "npz_per_gtu", "root"])
def test_movie_files_score_as_the_session_does(session_folder, golden, tmp_path, kind):
    """The same frames from a .npy, a per-GTU .npz or a Mini-EUSO ROOT file give the same
    integer scores as the session folder."""
    from tests.euso.test_readers import write_root
    from uvhunt.euso.timing import D3_GTUS

    frames = np.asarray(open_movie(session_folder).read(0, 160))
    path = tmp_path / f"movie.{kind.split('_')[0]}"
    if kind == "npy":
        np.save(path, frames)
    elif kind == "npz_per_gtu":
        np.savez(path, movie=frames / D3_GTUS, units="per_gtu")
    else:
        write_root(path, frames)
    prep = Preprocessing()
    reference = np.concatenate(
        [b.scores for b in score_movie(open_movie(session_folder), golden, prep, 48)]
    )[:160]
    got = np.concatenate([b.scores for b in score_movie(open_movie(path), golden, prep, 48)])
    np.testing.assert_array_equal(got, reference)


def test_masked_pixels_never_trigger_but_keep_their_scores(
    session_folder, exported_golden, tmp_path, capsys, monkeypatch
):
    """The pixel the network triggers on most and the one the conventional trigger ranks
    highest, masked: neither gives a detection, in either trigger."""
    base = ["detect", str(session_folder), "--export", str(exported_golden), "--pictures", "0"]
    assert main([*base, "--out", str(tmp_path / "open"), "--fpr", "1e-4", "--json", "--quiet"]) == 0
    open_run = json.loads(capsys.readouterr().out)
    scores = np.load(tmp_path / "open" / "scores.npy")
    level = open_run["threshold"]["score"]
    above = (scores > level).sum(axis=0)
    assert above.max() > 0
    movie = open_movie(session_folder)
    z = ConventionalTrigger().significance(raw_counts(movie.read(0, movie.frames), "raw"))
    mask = np.zeros((48, 48), int)
    mask.flat[np.argmax(above)] = mask.flat[np.nanargmax(np.nanmax(z, axis=0))] = 1
    excluded = mask.astype(bool)
    lines = ["".join(map(str, r)) for r in mask]
    (tmp_path / "mask.txt").write_text("\n".join(lines) + "\n")
    candidates, real = [], scan.top_detections  # the conventional trigger's candidates

    def top(scores, count, first_frame=0):
        candidates.append(real(scores, count, first_frame))
        return candidates[-1]

    monkeypatch.setattr(scan, "CONVENTIONAL_CANDIDATES", 2000)  # fewer, for speed
    monkeypatch.setattr(scan, "top_detections", top)
    logit = str(open_run["threshold"]["logit"])
    masked = [*base, "--threshold", logit, "--mask", str(tmp_path / "mask.txt"), "--conventional"]
    assert main([*masked, "--out", str(tmp_path / "masked"), "--json", "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out)
    th = summary["threshold"]
    assert th["score"] == level
    assert th["windows"] == open_run["threshold"]["windows"] - (1024 - 47) * excluded.sum()
    assert th["windows_above"] == open_run["threshold"]["windows_above"] - above[excluded].sum()
    events = json.loads((tmp_path / "masked" / "events.json").read_text())
    assert sum(e["windows"] for e in events) == th["windows_above"]
    np.testing.assert_array_equal(np.load(tmp_path / "masked" / "scores.npy"), scores)
    m = summary["mask"]
    assert m["pixels"] == excluded.sum() and "mask.txt" in m["source"]
    assert m["excluded"] == np.argwhere(excluded).tolist()
    np.testing.assert_array_equal(np.load(tmp_path / "masked" / "mask.npy"), excluded)
    assert summary["conventional"] is not None and len(candidates[0]) >= 2000
    assert not excluded[candidates[0].row, candidates[0].col].any()


def test_mask_auto_finds_the_movie_s_bad_pixels(session_folder, exported_golden, tmp_path, capsys):
    args = ["detect", str(session_folder), "--export", str(exported_golden), "--pictures", "0"]
    assert main([*args, "--out", str(tmp_path / "d"), "--mask", "auto", "--quiet"]) == 0
    out = capsys.readouterr().out
    meta = json.loads((tmp_path / "d" / "detect.json").read_text())
    found = np.load(tmp_path / "d" / "mask.npy")
    dead = np.load(session_folder / "detector.npz")["efficiency"] == 0
    assert found[dead].all() and meta["mask"]["dead"] == dead.sum()
    assert meta["mask"]["pixels"] == found.sum() and "found in" in meta["mask"]["source"]
    assert f"mask: {found.sum()} pixels never trigger" in out


def test_the_core_flies_the_thresholds_set_together_or_each_bits_own():
    """The trigger core's (score, gate code): the pair stored for the core; in an export made
    before it, the network's and the gate's own; without a gate, the score alone."""
    alone = {"score": 5353, "peak_gate": {"code": 1314}}
    assert core_thresholds({**alone, "core": {"score": 6711, "gate_code": 1314}}) == (6711, 1314)
    assert core_thresholds(alone) == (5353, 1314)
    assert core_thresholds({"score": 5353}) == (5353, None)
    assert core_thresholds(None) == (None, None)
