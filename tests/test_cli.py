"""The command line as a user drives it: outputs, summaries, JSON, errors and exit codes."""

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points

import numpy as np
import pytest

from tests.fast_training import HARD_NEGATIVE_FLAGS
from uvhunt._core.errors import UvhuntError
from uvhunt.cli import main

SMALL = ["--sessions", "2", "--frames", "512", "--meteor-rate", "1000", "--quiet"]


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_console_script_is_installed_and_lists_the_commands():
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "uvhunt"]
    assert script.value == "uvhunt.cli:main"
    result = subprocess.run(
        [sys.executable, "-m", "uvhunt.cli", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("run", "simulate", "windows"):
        assert command in result.stdout


def test_simulate_writes_sessions_plots_and_a_summary(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "simulate", "--out", tmp_path / "s", *SMALL, "--plot")
    assert code == 0
    assert "session_01" in out and "total" in out and str(tmp_path / "s") in out
    for name in ("session_00", "session_01"):
        folder = tmp_path / "s" / name
        assert np.load(folder / "movie.npy", mmap_mode="r").shape == (512, 48, 48)
        assert (folder / "meteor.png").stat().st_size > 10_000
    assert (tmp_path / "s").stat().st_mode & 0o777 == 0o777 & ~current_umask()
    summary = json.loads((tmp_path / "s" / "sessions.json").read_text())
    assert summary["totals"]["frames"] == 1024


def test_same_seed_same_numbers_other_seed_other_numbers(tmp_path, capsys):
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        run_cli(capsys, "simulate", "--out", tmp_path / name, *SMALL, "--seed", seed)
    movie = {n: (tmp_path / n / "session_01" / "movie.npy").read_bytes() for n in "abc"}
    assert movie["a"] == movie["b"] != movie["c"]


def test_windows_json_summary(tmp_path, capsys):
    run_cli(capsys, "simulate", "--out", tmp_path / "s", *SMALL)
    code, out, _ = run_cli(
        capsys,
        "windows",
        tmp_path / "s",
        "--out",
        tmp_path / "w",
        "--stride",
        "16",
        "--center",
        "peak",
        "--json",
        "--quiet",
    )
    assert code == 0
    meta = json.loads(out)
    counts = meta["counts"]
    assert counts["windows"] == 2 * 30 * 2304 == counts["meteor"] + counts["not_meteor"]
    assert [s["name"] for s in meta["sources"]] == ["session_00", "session_01"]
    assert np.load(tmp_path / "w" / "values.npy", mmap_mode="r").shape == (counts["windows"], 48)


def test_run_chains_the_stages_into_one_folder(tmp_path, capsys, monkeypatch):
    small = [
        "--sessions",
        "2",
        "--frames",
        "1024",
        "--meteor-rate",
        "4000",
        "--negatives",
        "2000",
        *HARD_NEGATIVE_FLAGS,
        "--max-epochs",
        "2",
        "--hidden",
        "8",
        "--test-negatives",
        "1000",
        "--core-pixels",
        "32",
        "--seu-faults",
        "10",
        "--quiet",
    ]
    monkeypatch.chdir(tmp_path)  # a relative run folder, as the README's command uses
    code, out, err = run_cli(capsys, "run", "--out", "run", *small)
    assert code == 0, err[-3000:]  # the failing stage's message
    assert "run folder: run" in out and "report: run/report/report.html" in out
    assert "stage times: simulate " in out and "evaluate " in out and "(in the background)" in out
    assert "windows ran, evaluate ran, train ran" in out  # begun beside the training
    assert "brevitas = QONNX = golden" in out
    assert "hls4ml C simulation = golden, bit for bit" in out
    assert "hls4ml C simulation = golden, bit for bit" in out
    for stage, name in (
        ("sessions", "sessions.json"),
        ("windows", "dataset.json"),
        ("model", "qat.pt"),
        ("evaluation", "report.md"),
        ("export", "model.onnx"),
        ("firmware", "hls/project/build_prj.tcl"),
        ("firmware", "rtl/uvhunt_top.v"),
        ("cosim", "results.xml"),
        ("resources", "resources.json"),
    ):
        assert (tmp_path / "run" / stage / name).is_file(), stage
    export = json.loads((tmp_path / "run" / "export" / "manifest.json").read_text())
    assert all(r["brevitas_mismatches"] == 0 == r["qonnx_mismatches"] for r in export["chain"])
    cosim = json.loads((tmp_path / "run" / "cosim" / "summary.json").read_text())
    assert cosim["mismatches"] == 0 and cosim["outputs_compared"] >= 50_000
    assert set(cosim["tests"].values()) == {"passed"}
    resources = json.loads((tmp_path / "run" / "resources" / "resources.json").read_text())
    assert resources["yosys"]["luts"] > 0 and resources["yosys"]["dsps"] == 0
    assert "one vector per clock" in out and "the D3 need" in out
    for name in ("report.html", "report.md", "magnitude.png"):
        assert (tmp_path / "run" / "report" / name).is_file()
    html = (tmp_path / "run" / "report" / "report.html").read_text()
    assert "data:image/png;base64," in html and 'src="http' not in html  # self-contained
    assert (tmp_path / "run" / "detect" / "scores.npy").is_file()
    # the run's scan runs the track stack trigger too, at the thresholds its export stored
    stack = json.loads((tmp_path / "run" / "detect" / "detect.json").read_text())["stack"]
    stored = export["operating_threshold"]["track_stack"]["with_gate"]
    assert (stack["threshold"], stack["gate_code"]) == (stored["threshold"], stored["gate_code"])
    met = export["operating_threshold"]["track_stack"]["coincidence"]  # and the coincidence's
    assert stack["coincidence"] == {
        k: met[k] for k in ("threshold", "gate_code", "frames", "pixels")
    }
    assert (tmp_path / "run" / "detect" / "stack_events.csv").is_file()
    report = (tmp_path / "run" / "report" / "report.md").read_text()
    assert "The track stack trigger ORed with the peak gate" in report
    # A second run reuses every stage; --from reruns from a stage on.
    code, out, _ = run_cli(capsys, "run", "--out", "run", *small)
    assert code == 0 and "stages: simulate cached" in out and " ran" not in out
    code, out, _ = run_cli(capsys, "run", "--out", "run", *small, "--from", "resources")
    assert "rtl cached, cosim cached, resources ran, core ran, detect ran, report ran" in out
    core = json.loads((tmp_path / "run" / "firmware" / "core" / "summary.json").read_text())
    assert core["mismatches"] == 0 and core["windows_compared"] > 0 and core["pixels"] == 32
    code, _, err = run_cli(
        capsys, "run", "--out", "run", *small, "--max-epochs", "3", "--only", "export"
    )
    assert code == 2 and "needs the stage 'train'" in err
    # A failing stage keeps the earlier stages and says how to resume.
    import uvhunt.stages.cosim as cosim_stage

    def broken(*_args, **_kwargs):
        raise UvhuntError("the simulator crashed", fix="free some memory")

    monkeypatch.setattr(cosim_stage, "run_cosim", broken)
    stamp = tmp_path / "run" / ".stages" / "evaluate.json"
    before = stamp.stat().st_mtime_ns
    code, _, err = run_cli(capsys, "run", "--out", "run", *small, "--from", "evaluate")
    assert code == 2 and "stage 'cosim' failed: the simulator crashed" in err
    assert "free some memory; then resume with `uvhunt run --out run --from cosim`" in err
    assert (tmp_path / "run" / "firmware" / "rtl" / "rtl.json").is_file()
    # the evaluation, run in the background beside the failing stage, finished and is kept
    assert stamp.stat().st_mtime_ns > before


@pytest.mark.parametrize(
    "args, words",
    [
        (["simulate", "--frames", "0"], ["frames must be >= 1", "fix:"]),
        (["simulate", "--sessions", "0"], ["--sessions"]),
        (["simulate", "--meteor-rate", "-1"], ["rate_per_hour", "fix:"]),
        (["windows", "MISSING.npy"], ["MISSING.npy", "no such file", "fix:"]),
        (["windows", "SESSIONS", "--stride", "0"], ["stride", "fix:"]),
        (["windows", "SESSIONS", "--length", "600"], ["shorter than one window", "fix:"]),
        (["windows", "SESSIONS", "--confuser-snr", "0"], ["confuser_snr", "fix:"]),
    ],
)
def test_bad_input_exits_2_with_a_clear_message_and_writes_nothing(tmp_path, capsys, args, words):
    run_cli(capsys, "simulate", "--out", tmp_path / "SESSIONS", *SMALL)
    args = [str(tmp_path / a) if a in ("MISSING.npy", "SESSIONS") else a for a in args]
    code, _, err = run_cli(capsys, *args, "--out", tmp_path / "out")
    assert code == 2
    for word in words:
        assert word in err
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["SESSIONS"]


@pytest.mark.parametrize(
    "args, words",
    [
        (["simulate", "--seed", "-1"], ["seed must be >= 0", "on the command line: --seed"]),
        (["simulate", "--meteor-rate", "nan"], ["rate_per_hour"]),
        (["simulate", "--meteor-rate", "inf"], ["rate_per_hour"]),
        (["windows", "SESSIONS", "--seed", "-1"], ["seed must be >= 0"]),
        (["windows", "SESSIONS", "--label-snr", "nan"], ["label_snr"]),
        (["run", "--frames", "10", "--sessions", "1"], ["shorter than one window"]),
    ],
)
def test_out_of_range_values_exit_2(tmp_path, capsys, args, words):
    run_cli(capsys, "simulate", "--out", tmp_path / "SESSIONS", *SMALL)
    args = [str(tmp_path / a) if a == "SESSIONS" else a for a in args]
    code, _, err = run_cli(capsys, *args, "--out", tmp_path / "out", "--quiet")
    assert code == 2
    for word in words:
        assert word in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["SESSIONS"]


def test_output_never_replaces_an_input_a_file_or_the_working_folder(tmp_path, capsys, monkeypatch):
    sessions = tmp_path / "s"
    run_cli(capsys, "simulate", "--out", sessions, *SMALL)
    before = sorted(p.name for p in sessions.rglob("*"))
    for out in (sessions, sessions / "session_00", sessions / "session_00" / "w", tmp_path):
        code, _, err = run_cli(capsys, "windows", sessions, "--out", out, "--quiet")
        assert code == 2 and "overwrite the input" in err
    (tmp_path / "keep.txt").write_text("mine")
    code, _, err = run_cli(capsys, "windows", sessions, "--out", tmp_path / "keep.txt")
    assert code == 2 and "not a folder" in err
    code, _, err = run_cli(capsys, "simulate", "--out", tmp_path / "keep.txt" / "x")
    assert code == 2 and "is a file" in err
    monkeypatch.chdir(sessions)
    code, _, err = run_cli(capsys, "simulate", "--out", ".", *SMALL)
    assert code == 2 and "current folder" in err
    assert sorted(p.name for p in sessions.rglob("*")) == before
    assert (tmp_path / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize(
    "damage, words",
    [
        (lambda f: (f / "session.json").write_text("{not json"), ["session.json", "damaged"]),
        (lambda f: (f / "truth.npz").write_bytes(b"garbage"), ["truth.npz", "damaged"]),
        (lambda f: np.savez(f / "truth.npz", frame=np.zeros(2)), ["truth.npz", "damaged"]),
        (lambda f: (f / "events.csv").write_text(""), ["events.csv lacks"]),
        (lambda f: np.save(f / "movie.npy", np.zeros((4, 48))), ["movie.npy", "shape"]),
        (lambda f: (f / "detector.npz").unlink(), ["lacks detector.npz"]),
    ],
)
def test_a_damaged_session_folder_is_named(tmp_path, capsys, damage, words):
    run_cli(capsys, "simulate", "--out", tmp_path / "s", *SMALL)
    damage(tmp_path / "s" / "session_01")
    code, _, err = run_cli(capsys, "windows", tmp_path / "s", "--out", tmp_path / "w")
    assert code == 2
    for word in words:
        assert word in err
    assert "fix:" in err and not (tmp_path / "w").exists()


def test_an_os_error_without_a_message_is_named(tmp_path, capsys, monkeypatch):
    """Some OSErrors carry no text (Dask's CommClosedError): the error still says what."""
    import uvhunt.cli as cli

    class ConnectionLost(OSError):
        pass

    def lost(*args, **kwargs):
        raise ConnectionLost()

    monkeypatch.setattr(cli, "run_stage", lost)
    code, _, err = run_cli(capsys, "simulate", "--out", tmp_path / "s", *SMALL)
    assert code == 2
    assert "uvhunt simulate: error: ConnectionLost" in err and "fix:" in err


def test_json_into_a_closed_pipe_ends_quietly(tmp_path):
    command = (
        f"{sys.executable} -m uvhunt.cli simulate --out {tmp_path / 's'} --sessions 1 "
        f"--frames 64 --quiet --json | head -c 10"
    )
    result = subprocess.run(command, shell=True, capture_output=True, text=True)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args, words",
    [
        (["rtl", "--export", "NOWHERE"], ["model.onnx", "fix:"]),
        (["rtl", "--export", "NOWHERE", "--latency-cutoff", "0"], ["latency_cutoff", "fix:"]),
        (["cosim", "--rtl", "NOWHERE"], ["rtl.json", "uvhunt rtl"]),
        (["cosim", "--rtl", "NOWHERE", "--simulator", "modelsim"], ["rtl.json"]),
        (["resources", "--rtl", "NOWHERE"], ["rtl.json", "uvhunt rtl"]),
    ],
)
def test_hardware_commands_refuse_missing_inputs(tmp_path, capsys, args, words):
    args = [str(tmp_path / a) if a == "NOWHERE" else a for a in args]
    code, _, err = run_cli(capsys, *args, "--out", tmp_path / "out", "--quiet")
    assert code == 2
    for word in words:
        assert word in err
    assert not (tmp_path / "out").exists()
