"""train → evaluate → export from the command line, on a small data set; and their errors."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.fast_training import TRAIN_FLAGS
from uvhunt.cli import main
from uvhunt.euso.window_store import open_window_dataset
from uvhunt.quant.checkpoint import load_models, load_trained_on
from uvhunt.quant.data import SessionSampler, comparison_windows

FAST = [*TRAIN_FLAGS, "--hidden", "8"]


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def model_folder(window_folder, tmp_path_factory):
    folder = tmp_path_factory.mktemp("model") / "model"
    assert main(["train", "--windows", str(window_folder), "--out", str(folder), *FAST]) == 0
    return folder


def test_train_writes_models_configs_and_hashes(model_folder, window_folder):
    manifest = json.loads((model_folder / "manifest.json").read_text())
    config = json.loads((model_folder / "config.json").read_text())
    assert config["model"]["hidden"] == [8] and config["train"]["max_epochs"] == 3
    assert set(manifest["dataset_hashes"]) == {
        "dataset.json",
        "label.npy",
        "source.npy",
        "values.npy",
    }
    assert manifest["sessions"] == ["session_00", "session_01", "session_02"]
    for name in ("float.pt", "qat.pt"):
        assert (model_folder / name).stat().st_size > 0


def test_the_firmware_checks_never_score_a_window_the_model_trained_on(model_folder, window_folder):
    """The model folder keeps the rows it trained on, mined hard negatives included, and the
    comparison windows (test benches, exactness checks, float-versus-hardware AUC) leave every
    one of those negatives out."""
    manifest = json.loads((model_folder / "manifest.json").read_text())
    trained_on = load_trained_on(model_folder)
    assert trained_on.size == manifest["meteor_windows"] + manifest["not_meteor_windows"]
    _, train, _, _, _ = load_models(model_folder)
    sampler = SessionSampler(open_window_dataset(window_folder))
    drawn = sampler.final_training_negatives(train)
    mined = np.setdiff1d(trained_on[sampler.label[trained_on] == 0], drawn)
    assert mined.size == 500  # --mined-negatives 500: negatives the seed alone cannot name
    compared = comparison_windows(window_folder, train, 0, 10**9, trained_on)
    negatives = compared.index[compared.label == 0]
    assert np.intersect1d(negatives, trained_on).size == 0
    assert negatives.size == (sampler.label == 0).sum() - (sampler.label[trained_on] == 0).sum()
    assert (compared.label == 1).sum() == (sampler.label == 1).sum()
    # without the rows (older model folders) the mined ones cannot be left out
    legacy = comparison_windows(window_folder, train, 0, 10**9)
    assert np.isin(mined, legacy.index).all()


def test_evaluate_writes_the_session_table(model_folder, window_folder, tmp_path, capsys):
    code, out, _ = run_cli(
        capsys,
        "evaluate",
        "--windows",
        window_folder,
        "--model",
        model_folder,
        "--out",
        tmp_path / "e",
        "--test-negatives",
        "2000",
        "--workers",
        "1",
        "--json",
        "--quiet",
    )
    assert code == 0
    summary = json.loads(out)
    assert summary["sessions"] == ["session_00", "session_01", "session_02"]
    assert "qat_mlp" in summary["mean_auc"] and "knn/both" in summary["mean_auc"]
    assert (tmp_path / "e" / "report.md").read_text().startswith("# Leave-one-session-out")
    events = summary["event_level"]
    assert set(events["methods"]) == {"qat_mlp", "xgboost/both", "peak_gate", "conventional"}
    for m in events["methods"].values():
        assert m["false_events_per_hour"] >= 0 and 0 <= m["meteors_caught"] <= m["meteors"]
        assert set(m["threshold"]) == set(summary["sessions"])
        assert all(0 <= v <= 1 for v in m["efficiency_by_magnitude"].values())
    assert (
        (tmp_path / "e" / "event_roc.csv")
        .read_text()
        .startswith("method,rate,magnitude,meteors,caught")
    )


def test_export_checks_the_chain(model_folder, window_folder, tmp_path, capsys):
    code, out, _ = run_cli(
        capsys,
        "export",
        "--model",
        model_folder,
        "--windows",
        window_folder,
        "--sessions",
        window_folder.parent,
        "--out",
        tmp_path / "x",
    )
    assert code == 0, out
    assert "brevitas = QONNX = golden" in out
    manifest = json.loads((tmp_path / "x" / "manifest.json").read_text())
    assert manifest["vectors_compared"] >= 10_000
    # the operating threshold, set on the training sessions for 10 false events per hour at
    # 90 % confidence, which 3 short sessions (0.03 h; 0.23 h needed with no false event)
    # cannot hold: every threshold is then the highest score seen (none fires there), and
    # the output says so
    operating = manifest["operating_threshold"]
    assert isinstance(operating["score"], int) and len(operating["sessions"]) == 3
    assert operating["false_events_per_hour_target"] == 10.0
    assert operating["confidence"] == 0.9 and operating["hours"] < operating["hours_needed"]
    gate = operating["peak_gate"]  # the trigger core's second rule, set on the same sessions
    assert isinstance(gate["code"], int) and gate["code"] >= 0
    core = operating["core"]  # either bit, set together: the gate's code, the rest of the rate
    assert core["gate_code"] == gate["code"] and isinstance(core["score"], int)
    for figures in (operating["measured"], gate["measured"], core["measured"]):
        assert figures["events"] == 0 and not figures["held"]
        assert figures["upper_limit_per_hour"] > 10.0
    assert "operating threshold: score >" in out and "the trigger core (either bit" in out
    assert "at 90% confidence, set on 3 sessions" in out
    assert "(NOT held at 90% confidence: 0.03 h of sessions, at least 0.23 h needed" in out
    # the track stack trigger's: the same rule
    stack = operating["track_stack"]
    assert stack["confidence"] == 0.9 and stack["hours"] < stack["hours_needed"]
    for point in (stack["alone"], stack["with_gate"], stack["coincidence"]):
        assert isinstance(point["threshold"], int) and not point["measured"]["held"]
        assert point["measured"]["upper_limit_per_hour"] > 10.0
    assert isinstance(stack["with_gate"]["gate_code"], int)
    assert "the track stack trigger (Z >" in out and "NOT held at 90% confidence" in out
    assert "or their coincidence (Z >" in out
    assert all(r["brevitas_mismatches"] == 0 == r["qonnx_mismatches"] for r in manifest["chain"])
    assert {r["vectors"] for r in manifest["chain"]} >= {
        "random",
        "extremes",
        "saturating",
        "ties_layer0",
        "windows",
    }
    assert (tmp_path / "x" / "model.onnx").is_file() and (tmp_path / "x" / "golden.npz").is_file()


def test_library_warnings_only_with_verbose(model_folder, window_folder, tmp_path):
    """brevitas warns (no fast_hadamard_transform) as its exporter is imported: a user sees it
    only with --verbose."""
    command = [sys.executable, "-m", "uvhunt.cli", "export", "--model", str(model_folder)]
    command += ["--windows", str(window_folder), "--sessions", str(window_folder.parent), "--quiet"]
    quiet = subprocess.run([*command, "--out", str(tmp_path / "a")], capture_output=True, text=True)
    assert quiet.returncode == 0 and quiet.stderr == ""
    loud = subprocess.run(
        [*command, "--out", str(tmp_path / "b"), "--verbose"], capture_output=True, text=True
    )
    assert loud.returncode == 0 and "fast_hadamard_transform" in loud.stderr


@pytest.mark.parametrize(
    "args, words",
    [
        (["train", "--hidden", "0"], ["hidden sizes must be positive"]),
        (["train", "--hidden", "a,b"], ["not a list of integers"]),
        (["train", "--weight-bits", "1"], ["weight_bits"]),
        (["train", "--weight-bits", "16", "--activation-bits", "16"], ["accumulator"]),
        (["train", "--negatives", "0"], ["negatives"]),
        (["export", "--model", "NOWHERE"], ["model folder lacks", "uvhunt train"]),
        (["evaluate", "--model", "NOWHERE"], ["model folder lacks"]),
        (["evaluate", "--model", "NOWHERE", "--hidden", "8"], ["both given", "drop --model"]),
    ],
)
def test_bad_settings_exit_2(window_folder, tmp_path, capsys, args, words):
    args = [str(tmp_path / a) if a == "NOWHERE" else a for a in args]
    code, _, err = run_cli(capsys, *args, "--windows", window_folder, "--out", tmp_path / "o")
    assert code == 2
    for word in words:
        assert word in err
    assert not (tmp_path / "o").exists()


def test_one_class_data_and_damaged_models_exit_2(window_folder, model_folder, tmp_path, capsys):
    shutil.copytree(window_folder, tmp_path / "w")
    np.save(tmp_path / "w" / "label.npy", np.zeros_like(np.load(tmp_path / "w" / "label.npy")))
    code, _, err = run_cli(
        capsys, "train", "--windows", tmp_path / "w", "--out", tmp_path / "m", *FAST
    )
    assert code == 2 and "one class only" in err
    shutil.copytree(model_folder, tmp_path / "broken")
    (tmp_path / "broken" / "qat.pt").write_bytes(b"not a checkpoint")
    code, _, err = run_cli(
        capsys,
        "export",
        "--model",
        tmp_path / "broken",
        "--windows",
        window_folder,
        "--out",
        tmp_path / "x",
    )
    assert code == 2 and "damaged" in err and not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--false-events-per-hour", "0"], ["must be above 0", "--false-events-per-hour"]),
        (["--sessions", "EMPTY"], ["no session folders", "uvhunt simulate"]),
    ],
)
def test_export_refuses_a_bad_operating_point(
    model_folder, window_folder, tmp_path, capsys, extra, words
):
    (tmp_path / "EMPTY").mkdir()
    extra = [str(tmp_path / e) if e == "EMPTY" else e for e in extra]
    command = ["export", "--model", model_folder, "--windows", window_folder]
    code, _, err = run_cli(
        capsys, *command, "--sessions", window_folder.parent, *extra, "--out", tmp_path / "x"
    )
    assert code == 2 and all(w in err for w in words), err
    assert not (tmp_path / "x").exists()


def test_export_checks_unlabelled_real_windows_too(model_folder, window_folder, tmp_path, capsys):
    rng = np.random.default_rng(1)
    np.save(tmp_path / "real.npy", rng.poisson(1.0, (200, 48, 48)).astype(np.float32))
    assert (
        main(["windows", str(tmp_path / "real.npy"), "--out", str(tmp_path / "w"), "--quiet"]) == 0
    )
    capsys.readouterr()
    code, out, _ = run_cli(
        capsys,
        "export",
        "--model",
        model_folder,
        "--windows",
        tmp_path / "w",
        "--sessions",
        window_folder.parent,
        "--out",
        tmp_path / "x",
    )
    assert code == 0
    chain = json.loads((tmp_path / "x" / "manifest.json").read_text())["chain"]
    assert {r["vectors"]: r["count"] for r in chain}["windows"] == 4 * 2304


def test_evaluate_needs_two_sessions_with_meteors(window_folder, model_folder, tmp_path, capsys):
    shutil.copytree(window_folder, tmp_path / "w")
    label = np.load(tmp_path / "w" / "label.npy")
    source = np.load(tmp_path / "w" / "source.npy")
    np.save(tmp_path / "w" / "label.npy", np.where(source == 0, label, 0).astype(label.dtype))
    code, _, err = run_cli(
        capsys,
        "evaluate",
        "--windows",
        tmp_path / "w",
        "--model",
        model_folder,
        "--out",
        tmp_path / "e",
        "--test-negatives",
        "1000",
    )
    assert code == 2 and "leave-one-session-out needs two or more" in err
    assert not (tmp_path / "e").exists()
