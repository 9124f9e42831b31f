"""`uvhunt detect` over an archive on Dask: every movie scanned as `uvhunt detect` scans it
alone, events merged with their movie and time, the same results on a real external cluster
as on the local default, and bad movies stopping the scan or skipped and listed."""

import csv
import json

import numpy as np
import pytest

from uvhunt.cli import main
from uvhunt.detection.archive import find_movies, is_archive
from uvhunt.euso.readers import open_movie
from uvhunt.euso.timing import D3_S


@pytest.fixture(scope="module")
def archive(tmp_path_factory, session_folder):
    """A session folder, a .npy and a .npz with timestamps, cut from the test session."""
    folder = tmp_path_factory.mktemp("archive")
    movie = open_movie(session_folder)
    frames = movie.read(0, movie.frames)
    (folder / "session_a").symlink_to(session_folder, target_is_directory=True)
    np.save(folder / "b_cut.npy", frames[200:700])
    stamps = 1.6e9 + D3_S * np.arange(400)
    np.savez(folder / "c_cut.npz", movie=frames[500:900], timestamps=stamps, units="raw")
    (folder / "notes.txt").write_text("not a movie")
    return folder


def _detect(*args) -> int:
    return main(["detect", *map(str, args), "--pictures", "0", "--quiet", "--fpr", "3e-5"])


def _table(folder):
    with open(folder / "events.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_an_archive_is_a_folder_of_movies_or_a_glob(archive, session_folder):
    assert is_archive(archive) and not is_archive(session_folder)
    assert is_archive(str(archive / "*.np?")) and not is_archive(archive / "b_cut.npy")
    assert [p.name for p in find_movies(archive)] == ["b_cut.npy", "c_cut.npz", "session_a"]
    assert [p.name for p in find_movies(str(archive / "*.np?"))] == ["b_cut.npy", "c_cut.npz"]


def test_each_movie_of_an_archive_is_scanned_as_alone(archive, exported_golden, tmp_path, capsys):
    out = tmp_path / "scan"
    assert _detect(archive, "--export", exported_golden, "--out", out, "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["movies"] == 3 and summary["cluster"]["local"]
    assert summary["cluster"]["workers"] == 2 and summary["frames"] == 1024 + 500 + 400
    assert sorted(p.name for p in (out / "logs").iterdir()) == [
        "scheduler.log",
        "worker-0.log",
        "worker-1.log",
    ]
    rows = _table(out)
    assert len(rows) == summary["events"] == sum(f["events"] for f in summary["files"])
    for movie, row in zip(find_movies(archive), summary["files"], strict=True):
        alone = tmp_path / f"alone_{movie.stem}"
        assert _detect(movie, "--export", exported_golden, "--out", alone) == 0
        np.testing.assert_array_equal(
            np.load(out / row["folder"] / "scores.npy"), np.load(alone / "scores.npy")
        )
        mine = [r for r in rows if r["file"] == str(movie)]
        theirs = _table(alone)
        assert [r["id"] for r in mine] == [r["id"] for r in theirs] and len(mine) == row["events"]
        for r, t in zip(mine, theirs, strict=True):
            assert {k: r[k] for k in t} == t
            assert float(r["time_s"]) == pytest.approx(int(t["first_frame"]) * D3_S)
            stamps = open_movie(movie).timestamps
            if stamps is None:  # the .npy
                assert r["unix_time"] == ""
            else:
                assert float(r["unix_time"]) == stamps[int(t["first_frame"])]
    assert summary["events"] > 0  # the comparison above compared something


def test_an_external_cluster_gives_what_the_local_one_gives(
    archive, exported_golden, tmp_path, dask_scheduler, capsys
):
    local, remote = tmp_path / "local", tmp_path / "remote"
    assert _detect(archive, "--export", exported_golden, "--out", local, "--workers", "1") == 0
    capsys.readouterr()
    code = _detect(
        archive, "--export", exported_golden, "--out", remote, "--scheduler", dask_scheduler
    )
    assert code == 0
    assert _table(local) == _table(remote) and len(_table(local)) > 0
    a, b = (json.loads((f / "archive.json").read_text()) for f in (local, remote))
    assert b["cluster"]["scheduler"] == dask_scheduler and b["cluster"]["workers"] == 2
    assert not b["cluster"]["local"] and a["cluster"]["workers"] == 1
    assert [f["folder"] for f in a["files"]] == [f["folder"] for f in b["files"]]
    for row in a["files"]:
        np.testing.assert_array_equal(
            np.load(local / row["folder"] / "scores.npy"),
            np.load(remote / row["folder"] / "scores.npy"),
        )


def test_a_bad_movie_stops_the_scan_or_is_skipped(archive, exported_golden, tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("b_cut.npy", "c_cut.npz"):
        (bad / name).symlink_to(archive / name)
    np.save(bad / "a_short.npy", np.ones((10, 48, 48), np.float32))
    out = tmp_path / "out"
    assert _detect(bad, "--export", exported_golden, "--out", out) == 2
    err = capsys.readouterr().err
    assert "a_short.npy" in err and "fewer than one window" in err and not out.exists()
    assert _detect(bad, "--export", exported_golden, "--out", out, "--skip-bad", "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert [s["file"] for s in summary["skipped"]] == [str(bad / "a_short.npy")]
    assert "fewer than one window" in summary["skipped"][0]["error"]
    assert summary["movies"] == 2


def test_an_archive_without_movies_or_cluster_is_refused(
    archive, exported_golden, tmp_path, capsys
):
    out = tmp_path / "out"
    assert _detect(tmp_path, "--export", exported_golden, "--out", out) == 2
    assert "no movies found" in capsys.readouterr().err
    code = _detect(archive, "--export", exported_golden, "--out", out, "--scheduler", "nowhere")
    assert code == 2 and "scheduler" in capsys.readouterr().err and not out.exists()
    assert _detect(archive, "--export", exported_golden, "--out", out, "--workers", "0") == 2
    assert "--workers" in capsys.readouterr().err
    assert _detect(archive, "--export", exported_golden, "--out", out, "--stack") == 2
    assert "operating_threshold.track_stack" in capsys.readouterr().err and not out.exists()


def test_an_archive_runs_the_track_stack_in_each_movie(archive, stack_export, tmp_path, capsys):
    """With ``--stack``, each movie's folder holds the stack's events and the archive's table
    its figures (movies without truth: events only)."""
    export = stack_export({"threshold": 60, "gate_code": 400})
    out = tmp_path / "out"
    assert _detect(archive, "--export", export, "--out", out, "--stack", "--json") == 0
    files = json.loads(capsys.readouterr().out)["files"]
    assert len(files) == 3
    for row in files:
        stack = json.loads((out / row["folder"] / "detect.json").read_text())["stack"]
        q = stack["quality"]
        assert row["stack"] == {
            "events": stack["events"],
            "false_events": None if q is None else q["false_events"],
            "meteors_caught": None if q is None else q["meteors_caught"],
        }
        assert (out / row["folder"] / "stack_events.csv").is_file()
    assert sum(row["stack"]["events"] for row in files) > 0
    assert [row["stack"]["false_events"] is None for row in files] == [
        row["meteors"] is None for row in files
    ]
