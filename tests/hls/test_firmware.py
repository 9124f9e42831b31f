"""hls4ml project and C simulation: equal to the golden model on every vector, bit for bit."""

import json

import numpy as np
import pytest

from tests.fast_training import TRAIN_FLAGS
from uvhunt._core.tools import find_hls_tool
from uvhunt.cli import main
from uvhunt.hls.precision import DEFAULT_PRECISION
from uvhunt.hls.project import FirmwareConfig, build_project, csim_predict, first_divergence
from uvhunt.quant.chain import as_integers
from uvhunt.quant.config import ModelConfig
from uvhunt.quant.golden import GoldenMLP
from uvhunt.quant.vectors import make_vectors

TRAIN = [*TRAIN_FLAGS, "--no-peak-input"]
"""The default architecture and bit widths on the window's 48 codes (the default's peak input,
a 49th, has its own chain tests: tests/firmware_tests/test_peak_input.py)."""


@pytest.fixture(scope="module")
def exported(window_folder, tmp_path_factory):
    """The default architecture and bit widths (``TRAIN``), trained briefly and exported."""
    root = tmp_path_factory.mktemp("fw")
    assert (
        main(["train", "--windows", str(window_folder), "--out", str(root / "model"), *TRAIN]) == 0
    )
    assert (
        main(
            [
                "export",
                "--model",
                str(root / "model"),
                "--windows",
                str(window_folder),
                "--sessions",
                str(window_folder.parent),
                "--out",
                str(root / "export"),
            ]
        )
        == 0
    )
    return root


@pytest.fixture(scope="module")
def csim(exported, tmp_path_factory):
    onnx = exported / "export" / "model.onnx"
    golden = GoldenMLP.from_qonnx(onnx).compile()
    tb = tmp_path_factory.mktemp("tb")
    q0 = np.zeros((2, 48), np.int32)
    (tb / "in.dat").write_text("\n".join(" ".join("0" * 48) for _ in q0))
    (tb / "out.dat").write_text("0\n0\n")
    model, _ = build_project(
        onnx, golden, tb / "hls", FirmwareConfig(), (tb / "in.dat", tb / "out.dat")
    )
    return model, golden


def test_csim_equals_golden_on_100k_vectors_with_the_nasty_ones(csim):
    model, golden = csim
    groups = make_vectors(golden, ModelConfig(), seed=5)
    rng = np.random.default_rng(5)
    groups["random"] = np.concatenate([groups["random"], rng.integers(-128, 128, (88_000, 48))])
    total = 0
    for name, q in groups.items():
        q = q.astype(np.int32)
        np.testing.assert_array_equal(
            as_integers(csim_predict(model, q), golden.output_exponent),
            golden.predict_int(q),
            err_msg=name,
        )
        total += len(q)
    assert total >= 100_000
    assert {"extremes", "saturating", "ties_layer0", "ties_layer1"} <= set(groups)


def test_hls4ml_default_input_precision_is_what_breaks_exactness(exported, tmp_path):
    """Without the derived input precision, hls4ml's default fixed<16,6> input wraps."""
    import uvhunt.hls.precision as precision

    onnx = exported / "export" / "model.onnx"
    golden = GoldenMLP.from_qonnx(onnx).compile()
    (tmp_path / "in.dat").write_text(" ".join("0" * 48) + "\n")
    (tmp_path / "out.dat").write_text("0\n")
    original = precision.fixed_type
    precision.fixed_type = lambda spec: DEFAULT_PRECISION
    try:
        model, _ = build_project(
            onnx,
            golden,
            tmp_path / "hls",
            FirmwareConfig(),
            (tmp_path / "in.dat", tmp_path / "out.dat"),
        )
    finally:
        precision.fixed_type = original
    q = np.random.default_rng(0).integers(-128, 128, (500, 48)).astype(np.int32)
    wrong = as_integers(csim_predict(model, q), golden.output_exponent) != golden.predict_int(q)
    assert wrong.sum() > 100
    where = first_divergence(model, golden, q)
    assert where is not None and where["golden_layer"] == "dense 0"


def test_firmware_command_writes_a_complete_project(exported, window_folder, tmp_path, capsys):
    code = main(
        [
            "firmware",
            "--export",
            str(exported / "export"),
            "--model",
            str(exported / "model"),
            "--windows",
            str(window_folder),
            "--out",
            str(tmp_path / "fw"),
            "--vectors",
            "30000",
            "--json",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    summary = json.loads(out)
    assert summary["vectors_compared"] >= 30_000
    assert all(r["mismatches"] == 0 for r in summary["csim_vs_golden"])
    bits = GoldenMLP.from_qonnx(exported / "export" / "model.onnx").input_quant.bits
    assert bits == 6  # the default's inputs, held exactly as integers of their own width
    assert summary["precisions"]["global_in"]["result_t"].startswith(
        f"fixed<{bits},{bits},RND_CONV,SAT"
    )
    assert summary["firmware"]["part"] == "xc7z030ffg676-2"
    a = summary["accuracy"]
    assert 0.5 < a["csim_auc"] <= 1 and a["quantization_loss"] == pytest.approx(
        a["float_auc"] - a["csim_auc"]
    )
    project = tmp_path / "fw" / "project"
    for name in (
        "build_prj.tcl",
        "hls4ml_config.yml",
        "firmware/myproject.cpp",
        "tb_data/tb_input_features.dat",
        "tb_data/tb_output_predictions.dat",
    ):
        assert (project / name).is_file(), name
    inputs = np.loadtxt(project / "tb_data" / "tb_input_features.dat")
    assert inputs.shape[1] == 48 and np.all(inputs == np.round(inputs))
    if find_hls_tool("Vitis") is None:
        assert summary["synthesis"]["status"] == "skipped"
        assert "not on PATH" in summary["synthesis"]["message"]


@pytest.mark.skipif(
    find_hls_tool("Vitis") is None,
    reason="vitis_hls / vitis-run not on PATH: HLS synthesis cannot run here",
)
def test_synthesis_runs_where_vitis_is_installed(exported, window_folder, tmp_path):
    assert (
        main(
            [
                "firmware",
                "--export",
                str(exported / "export"),
                "--model",
                str(exported / "model"),
                "--windows",
                str(window_folder),
                "--out",
                str(tmp_path / "fw"),
                "--vectors",
                "1000",
                "--synth",
            ]
        )
        == 0
    )
    manifest = json.loads((tmp_path / "fw" / "manifest.json").read_text())
    assert manifest["synthesis"]["status"] == "done"


@pytest.mark.parametrize(
    "args, words",
    [
        (["--part", "xc9nothing"], ["part 'xc9nothing' is unknown"]),
        (["--backend", "Quartus"], ["backend 'Quartus'"]),
        (["--reuse-factor", "0"], ["reuse factor"]),
        (["--export", "NOWHERE"], ["QONNX file not found", "model.onnx"]),
        (["--export", "CORRUPT"], ["not", "ONNX"]),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(
    exported, window_folder, tmp_path, capsys, args, words
):
    (tmp_path / "CORRUPT").mkdir()
    (tmp_path / "CORRUPT" / "model.onnx").write_bytes(b"\x00garbage" * 10)
    args = [str(tmp_path / a) if a in ("NOWHERE", "CORRUPT") else a for a in args]
    base = {
        "--export": str(exported / "export"),
        "--model": str(exported / "model"),
        "--windows": str(window_folder),
    }
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    argv = ["firmware", "--out", str(tmp_path / "fw")]
    for flag, value in base.items():
        argv += [flag, value]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    for word in words:
        assert word in err
    assert not (tmp_path / "fw").exists()
