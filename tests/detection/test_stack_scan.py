"""The track stack trigger ORed with the peak gate over a whole movie (``stack_scan``, ``uvhunt
detect --stack``): Z and codes of a movie read in chunks equal the whole movie's, and detect's
figures are those of the benchmark's counting rule at the export's stored thresholds."""

import json

import numpy as np
import pytest

from uvhunt.cli import main
from uvhunt.detection import stack_scan
from uvhunt.detection.event_quality import detections, either, fast_outcome, quality
from uvhunt.detection.peak_gate import PeakGateTrigger
from uvhunt.detection.scoring import NO_WINDOW
from uvhunt.detection.stack_coincidence import coincident
from uvhunt.detection.stack_operating_point import excluded_pixels
from uvhunt.detection.track_stack_integer import IntegerTrackStack
from uvhunt.euso.readers import open_movie
from uvhunt.quant.golden import read_export
from uvhunt.quant.preprocess import movie_raw_counts


@pytest.fixture(scope="module")
def whole_movie(session_folder, exported_golden):
    """The session's Z and gate codes (on the export's preprocessing) computed on the whole
    movie at once, the benchmark's way; a mask of the pixels of the highest Z and the highest
    code, and thresholds at which a few hundred pixel-frames fire in each bit."""
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
    return movie, excluded, with_gate, fired, preprocessing, z, codes


@pytest.mark.parametrize("chunk_frames", [13, 76, 97, 333])
def test_chunks_score_as_the_whole_movie(whole_movie, chunk_frames):
    """Chunks shorter than the stack's reach (76 frames either side) and longer, a last chunk
    of 10–100 frames: every Z and code of the movie equal to the whole movie's at once."""
    movie, excluded, _, _, preprocessing, z, codes = whole_movie
    stack, gate = IntegerTrackStack().validate(), PeakGateTrigger(48)
    assert stack_scan.reach(stack, gate) == 76
    parts = list(stack_scan.chunk_scores(movie, stack, gate, preprocessing, excluded, chunk_frames))
    assert [start for start, _, _ in parts] == list(range(0, movie.frames, chunk_frames))
    np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), z)
    np.testing.assert_array_equal(np.concatenate([p[2] for p in parts]), codes)


def _coincidence(z, codes) -> dict:
    """A coincidence below both thresholds: the 3,000th highest Z and code of the movie."""
    return {
        "threshold": int(np.sort(z[47:], axis=None)[-3000]),
        "gate_code": int(np.sort(codes[47:], axis=None)[-3000]),
        "frames": 16,
        "pixels": 1,
    }


def _with_coincidence(pair, coincidence, z, codes):
    """The pixel-frames of the pair, and where a Z above the coincidence's threshold has a code
    above its code near (``coincident``), from frame 47."""
    near = coincident(
        detections(z, coincidence["threshold"], 47),
        detections(codes, coincidence["gate_code"], 47),
    )
    return either(pair, near)


@pytest.mark.parametrize("chunk_frames", [97, 1024])
@pytest.mark.parametrize("with_coincidence", [False, True])
def test_chunks_fire_on_the_whole_movie_s_pixel_frames(whole_movie, chunk_frames, with_coincidence):
    """The pixel-frames above either threshold, in chunks or at once: the same, masked pixels
    never; with a coincidence, also those where it holds, across the chunks' ends (more than
    the pair alone)."""
    movie, excluded, with_gate, pair, preprocessing, z, codes = whole_movie
    coincidence, reference = None, pair
    if with_coincidence:
        coincidence = _coincidence(z, codes)
        reference = _with_coincidence(pair, coincidence, z, codes)
        assert len(reference) > len(pair) + 20
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
        coincidence,
    )
    assert len(pair) > 400 and sum(done) == movie.frames
    for field in ("frame", "row", "col", "score"):
        np.testing.assert_array_equal(getattr(got, field), getattr(reference, field))
    assert not excluded[got.row, got.col].any()


def _figures(movie, fired):
    """The benchmark's counting rule (``fast_outcome``) from the network's first window."""
    return quality(fast_outcome(fired, movie.events, 48), movie.events, movie.frames, 47)


def test_detect_gives_the_benchmark_s_figures_at_the_stored_thresholds(
    session_folder, stack_export, whole_movie, tmp_path, capsys, monkeypatch
):
    """``detect --stack`` with a mask, read in chunks of 500 frames: the events and figures
    the benchmark's rule counts at the stored thresholds (``fast_outcome`` of the pixel-frames
    fired at once); without a mask, the movie's own dead and hot pixels are excluded, as
    where the thresholds were set, and the figures are those of that mask."""
    movie, excluded, with_gate, fired, preprocessing, _, _ = whole_movie
    stored = stack_export(with_gate)
    np.save(tmp_path / "mask.npy", excluded)
    monkeypatch.setattr(stack_scan, "CHUNK_FRAMES", 500)
    args = ["detect", str(session_folder), "--export", str(stored), "--pictures", "0", "--stack"]
    assert main([*args, "--out", str(tmp_path / "d"), "--mask", str(tmp_path / "mask.npy")]) == 0
    text = capsys.readouterr().out
    summary = json.loads((tmp_path / "d" / "detect.json").read_text())["stack"]
    expected = _figures(movie, fired)
    assert summary["quality"] == expected and expected["meteors_caught"] > 0
    assert (summary["threshold"], summary["gate_code"]) == tuple(with_gate.values())
    assert summary["mask"] == f"the scan's mask (file {tmp_path / 'mask.npy'})"
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
    own = excluded_pixels(movie)
    assert summary["excluded_pixels"] == own.sum() and "first 1024 frames" in summary["mask"]
    z, codes = next(
        (z, c)
        for _, z, c in stack_scan.chunk_scores(
            movie,
            IntegerTrackStack().validate(),
            PeakGateTrigger(48),
            preprocessing,
            own,
            movie.frames,
        )
    )
    fired = either(
        detections(z, with_gate["threshold"], 47), detections(codes, with_gate["gate_code"], 47)
    )
    assert summary["quality"] == _figures(movie, fired)


@pytest.mark.parametrize(
    "with_gate, words",
    [
        (None, ["has no stored track stack thresholds"]),
        ({"threshold": 100}, ["unreadable", "gate_code"]),
        ({"threshold": 100.5, "gate_code": 1300}, ["unreadable", "not an integer"]),
    ],
)
def test_an_export_without_stack_thresholds_exits_2_and_writes_nothing(
    session_folder, exported_golden, stack_export, tmp_path, capsys, with_gate, words
):
    export = exported_golden if with_gate is None else stack_export(with_gate)
    args = ["detect", str(session_folder), "--export", str(export), "--stack"]
    assert main([*args, "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    for word in [*words, "operating_threshold.track_stack", "uvhunt run --from export"]:
        assert word in err
    assert not (tmp_path / "out").exists()


def test_detect_flies_the_stored_coincidence(
    session_folder, stack_export, whole_movie, tmp_path, capsys
):
    """An export with a coincidence stored: ``detect --stack`` fires on it too (the figures of
    the three terms, the benchmark's rule) and says its thresholds; a coincidence whose
    thresholds are not integers exits 2 naming it, and writes nothing."""
    movie, excluded, with_gate, pair, _, z, codes = whole_movie
    coincidence = _coincidence(z, codes)
    np.save(tmp_path / "mask.npy", excluded)
    args = ["detect", str(session_folder), "--pictures", "0", "--stack", "--json", "--quiet"]
    args += ["--mask", str(tmp_path / "mask.npy")]
    export = stack_export(with_gate, coincidence)
    assert main([*args, "--export", str(export), "--out", str(tmp_path / "d")]) == 0
    summary = json.loads(capsys.readouterr().out)["stack"]
    fired = _with_coincidence(pair, coincidence, z, codes)
    assert summary["coincidence"] == coincidence
    assert summary["quality"] == _figures(movie, fired) != _figures(movie, pair)
    text_args = [a for a in args if a not in ("--json", "--quiet")]
    assert main([*text_args, "--export", str(export), "--out", str(tmp_path / "t")]) == 0
    said = f"or Z > {coincidence['threshold']} with a code > {coincidence['gate_code']} within 16"
    assert said in capsys.readouterr().out

    export = stack_export(with_gate, {**coincidence, "threshold": 97.5})
    assert main([*args, "--export", str(export), "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert "operating_threshold.track_stack.coincidence" in err and "not integers" in err
    assert not (tmp_path / "bad").exists()
