"""`uvhunt flight` refuses what it cannot simulate, with the reason, exit code 2 and no
output folder: too few frames for a Z, a start beyond the movie, an export without the
coincidence's stored thresholds. (The full-size simulation takes minutes: its exactness is
tested on the small design, test_flight_cosim.py.)"""

import json
import shutil

import pytest

import uvhunt.stages.flight as flight_stage
from tests.flight_scenario import small_cases, small_flight, small_golden
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


def test_the_network_threshold_is_the_one_set_for_the_flight_design(exported, tmp_path):
    """The design's network score is the one stored for it beside the stack trigger's bits
    (``operating_threshold.flight``); an export made before it holds the core's pair's."""
    manifest = json.loads((exported / "manifest.json").read_text())
    operating = manifest["operating_threshold"]
    stack = operating["track_stack"]
    _, held = flight_stage.stored_flight(exported)
    assert held == {
        "threshold": operating["flight"]["score"],
        "gate_threshold": stack["with_gate"]["gate_code"],
        "gate_low_threshold": stack["coincidence"]["gate_code"],
        "stack_threshold": stack["with_gate"]["threshold"],
        "coincidence_threshold": stack["coincidence"]["threshold"],
    }
    old = tmp_path / "export"
    shutil.copytree(exported, old)
    del operating["flight"]
    (old / "manifest.json").write_text(json.dumps(manifest))
    assert flight_stage.stored_flight(old)[1]["threshold"] == operating["core"]["score"]


def test_the_command_writes_its_design_summary_and_report(
    exported, window_folder, tmp_path, monkeypatch, capsys
):
    """The command's whole path (stored thresholds, the stretch, the expectations, the folder,
    the summary and its table) with the simulation of the small design in place of the
    full-size one, which takes minutes: every field the summary and its rendering read."""
    real = flight_stage.cosimulate
    golden = small_golden()
    small = small_flight(golden, None)
    seen = {}

    def small_cosimulate(flight, cases, simulator, work):
        seen["pixels"] = flight.core.P
        seen["streams"] = sorted({key.split("/")[0] for key in cases})
        return real(small, small_cases(small, golden), simulator, work)

    monkeypatch.setattr(flight_stage, "cosimulate", small_cosimulate)
    out = tmp_path / "flight"
    assert _flight(exported, window_folder, out) == 0
    table = capsys.readouterr().out
    assert seen == {"pixels": 2304, "streams": ["stream_back_to_back", "stream_stalled"]}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tests"] == {"stream_back_to_back": "passed", "stream_stalled": "passed"}
    assert summary["mismatches"] == 0 and summary["frames"] == 120
    assert summary["start_frame"] >= 0 and summary["excluded_pixels"]["stream_stalled"] == 0
    assert summary["clocks_per_pixel"] == max(
        summary["core_clocks_per_pixel"], summary["stack_clocks_per_pixel"]
    )
    assert set(summary["thresholds"]) == {
        "threshold",
        "gate_threshold",
        "gate_low_threshold",
        "stack_threshold",
        "coincidence_threshold",
    }
    assert (out / "uvhunt_flight.v").is_file() and not (out / "build").exists()
    for words in ("stream_stalled", "passed", "thresholds held", "real-time margin", "Verilog"):
        assert words in table
