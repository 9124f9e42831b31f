import json
from pathlib import Path

import numpy as np
import pytest

from uvhunt._core.errors import UvhuntError
from uvhunt.euso import windows as windows_module
from uvhunt.euso.events import KIND_CODE
from uvhunt.euso.readers import open_movie
from uvhunt.euso.timing import D3_GTUS
from uvhunt.euso.window_store import open_window_dataset, write_window_dataset
from uvhunt.euso.windows import WindowBlock, WindowConfig, iter_windows


def coded_movie(frames: int) -> np.ndarray:
    """Every value says where it is: frame * 10,000 + pixel index (exact in float32)."""
    f = np.arange(frames)[:, None, None] * 10_000
    return (f + np.arange(48 * 48).reshape(48, 48)).astype(np.float32)


def all_windows(movie, config) -> WindowBlock:
    blocks = list(iter_windows(movie, config))
    return WindowBlock(
        np.concatenate([b.values for b in blocks]),
        *(np.concatenate([getattr(b, c) for b in blocks]) for c in WindowBlock.COLUMNS),
    )


@pytest.fixture
def coded(tmp_path):
    np.save(tmp_path / "coded.npy", coded_movie(300) + 20_000)
    return open_movie(tmp_path / "coded.npy", units="raw")


@pytest.mark.parametrize("length, stride", [(48, 48), (48, 16), (10, 7), (48, 1)])
def test_windows_hold_the_pixels_frames(coded, length, stride):
    w = all_windows(coded, WindowConfig(length=length, stride=stride))
    per_pixel = (300 - length) // stride + 1
    assert len(w) == per_pixel * 2304
    assert np.all(w.label == -1)
    pixel = w.row.astype(int) * 48 + w.col
    expected = (w.start[:, None] + np.arange(length)) * 10_000 + pixel[:, None] + 20_000
    np.testing.assert_array_equal(w.values, expected.astype(np.float32))
    assert sorted(set(w.start.tolist())) == list(range(0, per_pixel * stride, stride))


def test_block_size_does_not_change_the_windows(coded, monkeypatch):
    config = WindowConfig(length=20, stride=5, center="peak")
    big = all_windows(coded, config)
    monkeypatch.setattr(windows_module, "MAX_BLOCK_ELEMENTS", 2304 * 20 * 3)
    small = all_windows(coded, config)
    np.testing.assert_array_equal(big.values, small.values)
    np.testing.assert_array_equal(big.start, small.start)


def test_peak_centering_puts_the_nominal_windows_brightest_frame_in_the_middle(tmp_path):
    rng = np.random.default_rng(4)
    movie = rng.poisson(16384.0, (400, 48, 48)).astype(np.float32)
    spikes = rng.integers(0, 400, 2304)
    movie.reshape(400, 2304)[spikes, np.arange(2304)] += 50_000
    np.save(tmp_path / "m.npy", movie)
    w = all_windows(open_movie(tmp_path / "m.npy"), WindowConfig(center="peak"))
    per_pixel = (400 - 48) // 48 + 1
    nominal = np.repeat(np.arange(per_pixel) * 48, 2304)  # windows come start by start
    pixel = w.row.astype(int) * 48 + w.col
    frames = nominal[:, None] + np.arange(48)
    brightest = nominal + np.argmax(movie.reshape(400, 2304)[frames, pixel[:, None]], axis=1)
    expected_start = np.clip(brightest - 24, 0, 400 - 48)
    np.testing.assert_array_equal(w.start, expected_start)
    free = (expected_start > 0) & (expected_start < 400 - 48)
    assert free.mean() > 0.9
    # the spike of every pixel ends up in the middle of the window made around it
    holds = spikes[pixel] // 48 * 48 == nominal
    ok = holds & (spikes[pixel] >= 24) & (spikes[pixel] < 400 - 24)
    assert np.all(np.argmax(w.values[ok], axis=1) == 24)


def brute_force_snr(session, meteor: bool):
    """Largest signal-to-noise of meteors (or of other sources) per (frame, row, col)."""
    t = session.truth
    kinds = np.array([KIND_CODE[e.kind] for e in session.events])[t.event]
    mine = (kinds == 0) if meteor else (kinds != 0)
    snr = np.zeros((len(session.movie), 48, 48), np.float32)
    np.maximum.at(
        snr,
        (t.frame[mine], t.row[mine], t.col[mine]),
        (t.counts[mine] / np.sqrt(t.expected[mine])).astype(np.float32),
    )
    return snr


@pytest.mark.parametrize("center", ["none", "peak"])
def test_labels_follow_the_documented_rule(session_folder, stored_session, center):
    config = WindowConfig(stride=24, center=center)
    w = all_windows(open_movie(session_folder), config)
    m_snr = brute_force_snr(stored_session, meteor=True)
    o_snr = brute_force_snr(stored_session, meteor=False)
    frames = w.start[:, None] + np.arange(48)
    window_m = m_snr[frames, w.row[:, None], w.col[:, None]].max(axis=1)
    window_o = o_snr[frames, w.row[:, None], w.col[:, None]].max(axis=1)
    np.testing.assert_array_equal(w.meteor_snr, window_m)
    np.testing.assert_array_equal(w.label, (window_m >= 3.0).astype(np.int8))
    np.testing.assert_array_equal(w.confuser >= 0, window_o >= 1.0)
    assert (w.label == 1).sum() >= 20
    magnitude = {e.id: e.magnitude for e in stored_session.events if e.kind == "meteor"}
    meteors = w.label == 1
    assert np.all(w.meteor_event[meteors] >= 0)
    np.testing.assert_array_equal(
        w.meteor_magnitude[meteors],
        np.array([magnitude[i] for i in w.meteor_event[meteors]], np.float32),
    )
    assert np.all(w.meteor_event[w.meteor_snr == 0] == -1)


def test_negative_fraction_keeps_every_meteor(session_folder):
    movie = open_movie(session_folder)
    full = all_windows(movie, WindowConfig(stride=24))
    thin = all_windows(movie, WindowConfig(stride=24, negative_fraction=0.1, seed=3))
    again = all_windows(movie, WindowConfig(stride=24, negative_fraction=0.1, seed=3))
    np.testing.assert_array_equal(thin.values, again.values)
    assert (thin.label == 1).sum() == (full.label == 1).sum()
    kept = (thin.label == 0).sum() / (full.label == 0).sum()
    assert 0.09 < kept < 0.11


def test_negative_fraction_keeps_every_unlabelled_window(coded):
    full = all_windows(coded, WindowConfig(stride=24))
    thin = all_windows(coded, WindowConfig(stride=24, negative_fraction=0.1))
    assert len(thin) == len(full) and np.all(thin.label == -1)


def test_window_config_is_validated():
    for bad in (
        dict(length=1),
        dict(stride=0),
        dict(center="middle"),
        dict(negative_fraction=0.0),
        dict(label_snr=-1.0),
    ):
        with pytest.raises(ValueError):
            WindowConfig(**bad).validate()


def test_dataset_round_trip_with_mixed_units(tmp_path, session_folder):
    per_gtu = coded_movie(100) / np.float32(D3_GTUS) + 1
    np.save(tmp_path / "per_gtu.npy", per_gtu)
    movies = [open_movie(session_folder), open_movie(tmp_path / "per_gtu.npy")]
    assert movies[1].units == "per_gtu"
    meta = write_window_dataset(movies, tmp_path / "ds", WindowConfig())
    ds = open_window_dataset(tmp_path / "ds")
    assert meta["units"] == "raw" and json.loads((tmp_path / "ds/dataset.json").read_text())
    assert len(ds) == meta["counts"]["windows"] == (21 + 2) * 2304
    second = ds.source[:] == 1
    np.testing.assert_allclose(ds.values[second][0], per_gtu[:48, 0, 0] * D3_GTUS, rtol=1e-6)
    assert meta["counts"]["unknown"] == second.sum()
    assert meta["counts"]["meteor"] == (ds.label[:] == 1).sum()


def test_failure_leaves_no_half_written_dataset(tmp_path, session_folder):
    bad = coded_movie(200)
    bad[150, 1, 1] = np.nan
    np.save(tmp_path / "bad.npy", bad)
    movies = [open_movie(session_folder), open_movie(tmp_path / "bad.npy", units="raw")]
    with pytest.raises(UvhuntError, match="frame 150"):
        write_window_dataset(movies, tmp_path / "ds", WindowConfig())
    assert not (tmp_path / "ds").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.npy"]
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "keep.txt").write_text("earlier result")
    with pytest.raises(UvhuntError):
        write_window_dataset(movies, tmp_path / "ds", WindowConfig())
    assert (tmp_path / "ds" / "keep.txt").read_text() == "earlier result"


def test_a_session_without_any_event_is_windowed(tmp_path):
    from uvhunt.euso.conditions import ConditionRanges
    from uvhunt.euso.meteors import MeteorConfig
    from uvhunt.euso.session import SessionConfig, SessionSimulator
    from uvhunt.euso.store import write_session

    quiet = ConditionRanges(
        city_density=(0.0, 0.0), ship_density=(0.0, 0.0), storm_probability=0.0, hot_pixels=(0, 0)
    )
    sim = SessionSimulator(
        SessionConfig(frames=100, meteors=MeteorConfig(rate_per_hour=0.0), conditions=quiet), seed=1
    )
    assert sim.events == []
    write_session(sim, tmp_path / "quiet")
    w = all_windows(open_movie(tmp_path / "quiet"), WindowConfig())
    assert len(w) == 2 * 2304 and np.all(w.label == 0) and np.all(np.isnan(w.meteor_magnitude))


def test_blocks_read_a_bounded_number_of_frames_whatever_the_stride(tmp_path, monkeypatch):
    np.save(tmp_path / "long.npy", np.ones((3000, 48, 48), np.float32))
    movie = open_movie(tmp_path / "long.npy")
    spans = []
    read = movie.reader
    movie.reader = lambda f0, f1: spans.append(f1 - f0) or read(f0, f1)
    for stride in (48, 1000):
        spans.clear()
        w = all_windows(movie, WindowConfig(stride=stride, center="peak"))
        assert len(w) == ((3000 - 48) // stride + 1) * 2304
        assert max(spans) <= windows_module.MAX_BLOCK_ELEMENTS // 2304 + 2 * 48


def test_kept_negatives_do_not_depend_on_the_other_inputs(tmp_path, session_folder):
    import shutil

    shutil.copytree(session_folder, tmp_path / "other" / session_folder.name)
    config = WindowConfig(negative_fraction=0.05, seed=2)
    alone = write_window_dataset([open_movie(session_folder)], tmp_path / "a", config)
    both = write_window_dataset(
        [open_movie(session_folder), open_movie(tmp_path / "other" / session_folder.name)],
        tmp_path / "b",
        config,
    )
    a, b = open_window_dataset(tmp_path / "a"), open_window_dataset(tmp_path / "b")
    first = b.source[:] == 0
    assert alone["counts"]["windows"] == both["sources"][0]["windows"]
    np.testing.assert_array_equal(a.start[:], b.start[first])
    np.testing.assert_array_equal(a.values[:], b.values[first])


def test_a_dataset_finds_its_sessions_from_any_folder_and_when_moved_with_them(
    tmp_path, session_folder, monkeypatch
):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(session_folder, run / "sessions" / "session_00")
    monkeypatch.chdir(run)  # written with relative paths, as `uvhunt run` does
    write_window_dataset(
        [open_movie(Path("sessions/session_00"))], Path("windows"), WindowConfig(stride=64)
    )
    monkeypatch.chdir(tmp_path)
    dataset = open_window_dataset(run / "windows")
    assert dataset.meta["sources"][0]["path_from_dataset"] == "../sessions/session_00"
    assert dataset.source_path(0) == (run / "sessions" / "session_00").resolve()
    shutil.move(run, tmp_path / "moved")
    moved = open_window_dataset(tmp_path / "moved" / "windows")
    assert moved.source_path(0) == (tmp_path / "moved" / "sessions" / "session_00").resolve()
    assert open_movie(moved.source_path(0)).frames == open_movie(session_folder).frames
    # the data set copied away from its sessions: the path as given (here relative to the
    # folder it was written from)
    shutil.copytree(tmp_path / "moved" / "windows", tmp_path / "alone")
    monkeypatch.chdir(tmp_path / "moved")
    alone = open_window_dataset(tmp_path / "alone")
    assert alone.source_path(0) == (tmp_path / "moved" / "sessions" / "session_00").resolve()
