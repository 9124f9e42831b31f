"""The peak input (``--peak-input``: ⌊S/5⌋ as the network's 49th input) through the chain: a
briefly trained 49-input model exported (brevitas = QONNX = golden), C-simulated by hls4ml,
generated as unrolled RTL and co-simulated in Verilator, every output equal to the golden
model's integer; a movie scored with it; the streaming trigger core and the HLS core
computing it."""

import json

import numpy as np
import pytest

from tests.fast_training import TRAIN_FLAGS, train_and_export
from uvhunt.cli import main
from uvhunt.detection.peak_gate import PeakGateTrigger
from uvhunt.detection.scoring import score_all
from uvhunt.euso.readers import open_movie
from uvhunt.firmware_tests.core_reference import CoreReference
from uvhunt.quant.golden import read_export
from uvhunt.quant.preprocess import movie_raw_counts

TRAIN = [*TRAIN_FLAGS, "--hidden", "8,4", "--peak-input"]


@pytest.fixture(scope="module")
def peak_model(window_folder, tmp_path_factory):
    """``model/`` and ``export/`` of a 49-8-4-1 network trained with the peak input."""
    return train_and_export(window_folder, tmp_path_factory.mktemp("peak"), TRAIN)


def test_export_is_bit_exact_at_49_inputs(peak_model):
    golden, config = read_export(peak_model / "export")
    assert config.preprocessing.peak_input and config.inputs == 49
    assert golden.sizes == [49, 8, 4, 1]
    summary = json.loads((peak_model / "export" / "manifest.json").read_text())
    assert summary["vectors_compared"] >= 10_000
    assert all(r["brevitas_mismatches"] == r["qonnx_mismatches"] == 0 for r in summary["chain"])


def test_a_movie_is_scored_on_the_window_and_its_peak(peak_model, window_folder):
    """``score_all`` (detect's scoring) equals the golden model on the codes with ⌊S/5⌋."""
    golden, config = read_export(peak_model / "export")
    movie = open_movie(window_folder.parent / "session_00")
    scores = score_all(movie, golden, config.preprocessing, config.length)
    raw = movie_raw_counts(movie, 200, 260).reshape(60, -1)
    q = config.preprocessing.codes(np.lib.stride_tricks.sliding_window_view(raw.T, 48, axis=1))
    peak, _, _ = PeakGateTrigger.window_parts(q)
    inputs = np.concatenate([q, (peak // 5)[..., None]], axis=-1).astype(np.int32)
    expected = golden.predict_int(inputs.reshape(-1, 49)).reshape(2304, -1).T
    np.testing.assert_array_equal(scores[247:260].reshape(13, -1), expected)


def test_hls_csim_equals_golden(peak_model, window_folder, capsys):
    out = peak_model / "hls"
    code = main(
        [
            "firmware",
            "--export",
            str(peak_model / "export"),
            "--model",
            str(peak_model / "model"),
            "--windows",
            str(window_folder),
            "--out",
            str(out),
            "--json",
            "--quiet",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    rows = summary["csim_vs_golden"]
    assert sum(r["count"] for r in rows) >= 10_000
    assert all(r["mismatches"] == 0 for r in rows)


@pytest.mark.slow
def test_verilator_rtl_equals_golden(peak_model, window_folder, capsys):
    rtl = peak_model / "rtl"
    assert main(["rtl", "--export", str(peak_model / "export"), "--out", str(rtl), "--quiet"]) == 0
    capsys.readouterr()
    code = main(
        [
            "cosim",
            "--rtl",
            str(rtl),
            "--model",
            str(peak_model / "model"),
            "--windows",
            str(window_folder),
            "--out",
            str(peak_model / "cosim"),
            "--vectors",
            "12000",
            "--json",
            "--quiet",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["mismatches"] == 0 and summary["outputs_compared"] >= 10_000
    assert {"extremes", "saturating", "windows", "peak_constant", "peak_ties"} <= set(
        summary["groups"]
    )
    design = json.loads((rtl / "rtl.json").read_text())["design"]
    assert (design["inputs"], design["peak_input"]) == (48, True)


def test_the_core_computes_the_peak_input(peak_model, window_folder, capsys):
    """The streaming core with the peak input, co-simulated in Verilator (64 pixels, every
    test of ``firmware_tests.core_tests``: gaps, back-pressure, extreme counts, a reset, the
    mask port), equal to the golden scoring on every output; and the HLS core's C
    simulation."""
    out = peak_model / "core"
    movie = str(window_folder.parent / "session_00")
    export = str(peak_model / "export")
    args = ["--export", export, "--movie", movie, "--out", str(out), "--pixels", "64"]
    args += ["--stream-frames", "120", "--seu-faults", "10", "--json", "--quiet"]
    code = main(["core", *args])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0
    assert summary["mismatches"] == 0 and set(summary["tests"].values()) == {"passed"}
    session = summary["results"]["session_back_to_back"]
    assert session["windows"] == (120 - 47) * 64
    assert sum(r["triggers"] for r in summary["results"].values()) > 0
    golden, config = read_export(peak_model / "export")
    assert np.count_nonzero(golden.layers[0].weight[48]) >= 2  # the peak input counts
    # the extreme counts reach both ends of ⌊S/5⌋, and S < 0 off a multiple of 5 (the floor)
    reference = CoreReference(golden, config.preprocessing)
    with np.load(out / "stream.npz") as streams:
        peak = reference.gate_parts(streams["extremes"])[0][47:]
    assert peak.max() == 635 and np.count_nonzero((peak < 0) & (peak % 5 != 0)) >= 10
    assert summary["hls"]["mismatches"] == 0
