"""The track stack trigger ORed with the peak gate over a whole movie (``stack_scan``, ``uvhunt
detect --stack``): the pixel-frames of a movie read in chunks equal the whole movie's, and
detect's figures are the benchmark's at the export's stored thresholds."""

import json
import shutil

import numpy as np
import pytest

from uvhunt.cli import main
from uvhunt.detection import stack_scan
from uvhunt.detection.event_quality import detections, either, fast_outcome, quality
from uvhunt.detection.peak_gate import PeakGateTrigger
from uvhunt.detection.scoring import NO_WINDOW
from uvhunt.detection.stack_operating_point import excluded_pixels
from uvhunt.detection.track_stack_integer import IntegerTrackStack
from uvhunt.euso.readers import open_movie
from uvhunt.quant.golden import read_export
from uvhunt.quant.preprocess import movie_raw_counts


@pytest.fixture(scope="module")
def whole_movie(session_folder, exported_golden):
    """The session's Z and gate codes (on the export's preprocessing) computed on the whole
    movie at once, the benchmark's way; a mask of the pixels of the highest Z and the highest code,
    and thresholds at which a few hundred pixel-frames fire in each bit."""
    preprocessing = read_export(exported_golden)[1].preprocessing
    movie = open_movie(session_folder)
    raw = movie_raw_counts(movie)
    stack = IntegerTrackStack().validate()
    codes = PeakGateTrigger(48).codes(raw, preprocessing)
    excluded = np.zeros((48, 48), bool)
    excluded.flat[np.argmax(stack.significance(raw).max(axis=0))] = True
    excluded.flat[np.argmax(codes.max(axis=0))] = True
    z = stack.significance(raw, excluded)
    codes[:, excluded] = NO_WINDOW
    with_gate = {
        "threshold": int(np.sort(z[47:], axis=None)[-300]),
        "gate_code": int(np.sort(codes[47:], axis=None)[-200]),
    }
    fired = either(
        detections(z, with_gate["threshold"], 47), detections(codes, with_gate["gate_code"], 47)
    )
    return movie, excluded, with_gate, fired, preprocessing


@pytest.mark.parametrize("chunk_frames", [97, 333, 1024])
def test_chunks_fire_on_the_whole_movie_s_pixel_frames(whole_movie, chunk_frames):
    """Chunks shorter than the stack's reach (77 frames either side), with a last chunk of
    any length, or the movie at once: the same pixel-frames, masked pixels never."""
    movie, excluded, with_gate, reference, preprocessing = whole_movie
    done = []
    got = stack_scan.stack_or_gate(
        movie,
        IntegerTrackStack().validate(),
        PeakGateTrigger(48),
        preprocessing,
        with_gate,
        excluded,
        47,
        done.append,
        chunk_frames,
    )
    assert len(reference) > 400 and sum(done) == movie.frames
    for field in ("frame", "row", "col", "score"):
        np.testing.assert_array_equal(getattr(got, field), getattr(reference, field))
    assert not excluded[got.row, got.col].any()


def test_detect_gives_the_benchmark_s_figures_at_the_stored_thresholds(
    session_folder, exported_golden, whole_movie, tmp_path, capsys, monkeypatch
):
    """``detect --stack`` with a mask: the events and figures the benchmark counts at the
    stored thresholds (``fast_outcome`` of the pixel-frames fired); without one, the movie's
    own dead and hot pixels are excluded, as where the thresholds were set."""
    movie, excluded, with_gate, fired, _ = whole_movie
    stored = tmp_path / "export"
    shutil.copytree(exported_golden, stored)
    manifest = json.loads((stored / "manifest.json").read_text())
    point = {"trigger": IntegerTrackStack().to_dict(), "with_gate": with_gate}
    operating = {"score": 10**6, "false_events_per_hour_target": 10.0, "sessions": ["s"]}
    (stored / "manifest.json").write_text(
        json.dumps({**manifest, "operating_threshold": {**operating, "track_stack": point}})
    )
    np.save(tmp_path / "mask.npy", excluded)
    monkeypatch.setattr(stack_scan, "CHUNK_FRAMES", 500)
    args = ["detect", str(session_folder), "--export", str(stored), "--pictures", "0", "--stack"]
    assert main([*args, "--out", str(tmp_path / "d"), "--mask", str(tmp_path / "mask.npy")]) == 0
    text = capsys.readouterr().out
    summary = json.loads((tmp_path / "d" / "detect.json").read_text())["stack"]
    truth = movie.events
    expected = quality(fast_outcome(fired, truth, 48), truth, movie.frames, 47)
    assert summary["quality"] == expected and expected["meteors_caught"] > 0
    assert (summary["threshold"], summary["gate_code"]) == tuple(with_gate.values())
    rows = json.loads((tmp_path / "d" / "stack_events.json").read_text())
    assert len(rows) == summary["events"] == expected["events"]
    assert [r["id"] for r in rows] == list(range(1, len(rows) + 1))
    assert [r["first_frame"] for r in rows] == sorted(r["first_frame"] for r in rows)
    assert sum(r["windows"] for r in rows) == len(fired) and "peak_logit" not in rows[0]
    assert sum(r["truth_kind"] != "meteor" for r in rows) == expected["false_events"]
    assert (tmp_path / "d" / "stack_events.csv").read_text().startswith("id,first_frame")
    assert f"track stack or gate (Z > {with_gate['threshold']}" in text

    assert main([*args, "--out", str(tmp_path / "auto"), "--json", "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out)["stack"]
    assert summary["excluded_pixels"] == excluded_pixels(movie).sum()
    assert "first 1024 frames" in summary["mask"]


def test_an_export_without_stack_thresholds_exits_2_and_writes_nothing(
    session_folder, exported_golden, tmp_path, capsys
):
    args = ["detect", str(session_folder), "--export", str(exported_golden), "--stack"]
    assert main([*args, "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    for words in ("operating_threshold.track_stack", "uvhunt run --from export", "manifest"):
        assert words in err
    assert not (tmp_path / "out").exists()
