"""`uvhunt flight` refuses what it cannot simulate, with the reason, exit code 2 and no
output folder: too few frames for a Z, a start beyond the movie, an export without the
coincidence's stored thresholds. (The full-size simulation takes minutes: its exactness is
tested on the small design, test_flight_cosim.py.)"""

import json
import shutil

import pytest

from uvhunt.cli import main


@pytest.fixture(scope="module")
def exported(trained):
    return trained / "export"


def _flight(export, window_folder, out, *extra):
    movie = window_folder.parent / "session_00"
    args = ["flight", "--export", str(export), "--movie", str(movie), "--out", str(out)]
    return main([*args, "--quiet", *extra])


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--flight-frames", "102"], ["--flight-frames 102 gives no Z", "frame 102"]),
        (["--start-frame", "100000"], ["--start-frame 100000", "fewer than 120 frames"]),
    ],
)
def test_bad_flight_settings_exit_2(exported, window_folder, tmp_path, capsys, extra, words):
    code = _flight(exported, window_folder, tmp_path / "x", *extra)
    err = capsys.readouterr().err
    assert code == 2
    for word in words:
        assert word in err
    assert not (tmp_path / "x").exists()


def test_an_export_without_the_coincidence_is_refused(exported, window_folder, tmp_path, capsys):
    old = tmp_path / "export"
    shutil.copytree(exported, old)
    manifest = json.loads((old / "manifest.json").read_text())
    del manifest["operating_threshold"]["track_stack"]["coincidence"]
    (old / "manifest.json").write_text(json.dumps(manifest))
    code = _flight(old, window_folder, tmp_path / "x")
    err = capsys.readouterr().err
    assert code == 2
    assert (
        "operating_threshold.track_stack.coincidence" in err and "uvhunt run --from export" in err
    )
    assert not (tmp_path / "x").exists()
