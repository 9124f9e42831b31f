"""`uvhunt core`: the streaming trigger core of a briefly trained model, co-simulated with
cocotb in Verilator on a simulated session (64 pixels per frame here, at least 20,000
windows), every score, trigger bit and frame count equal to the golden scoring; gaps,
back-pressure, extreme counts, threshold changes, a reset mid-frame and a pixel mask (from a
file, then rewritten at run time); a corrupted weight caught; Yosys resources; bad input
refused."""

import json

import numpy as np
import pytest

import uvhunt.stages.core as core_stage
from uvhunt.cli import main
from uvhunt.euso.window_store import open_window_dataset
from uvhunt.firmware_tests.core_reference import CoreReference
from uvhunt.firmware_tests.seu_plan import OUTCOMES
from uvhunt.hls.core_build import (
    CoreConfig,
    choose_lanes,
    core_model,
    cycles_available,
    cycles_per_pixel,
)
from uvhunt.hls.core_hls import reuse_factors
from uvhunt.quant.config import replace
from uvhunt.quant.golden import GoldenMLP, read_export
from uvhunt.quant.preprocess import Preprocessing

PIXELS, FRAMES = 64, 360  # (360 − 47) × 64 = 20,032 windows


@pytest.fixture(scope="module")
def exported(trained):
    return trained / "export"


def _core(exported, window_folder, out, *extra):
    movie = window_folder.parent / "session_00"
    return main(
        [
            "core",
            "--export",
            str(exported),
            "--movie",
            str(movie),
            "--out",
            str(out),
            "--pixels",
            str(PIXELS),
            "--quiet",
            *extra,
        ]
    )


def test_core_equals_the_golden_scoring_on_a_streamed_session(
    exported, window_folder, tmp_path, capsys
):
    mask = np.zeros((48, 48), bool)
    mask[0, 5] = mask[1, 3] = mask[40, 40] = True  # pixels 5 and 51 are streamed, not the third
    np.save(tmp_path / "mask.npy", mask)
    extra = ["--stream-frames", str(FRAMES), "--mask", str(tmp_path / "mask.npy"), "--json"]
    extra += ["--seu-faults", "20", "--seu-seed", "3"]
    code = _core(exported, window_folder, tmp_path / "core", *extra)
    out = capsys.readouterr().out
    assert code == 0, out
    summary = json.loads(out)
    assert summary["mismatches"] == 0 and set(summary["tests"].values()) == {"passed"}
    session = summary["results"]["session_back_to_back"]
    assert session["windows"] == (FRAMES - 47) * PIXELS >= 20_000
    assert summary["windows_compared"] > session["windows"]
    assert session["triggers"] > 0  # the trigger bits take both values
    assert summary["peak_gate"]["low_triggers"] > 0  # the gate's low bit fires
    assert summary["mask"]["masked_pixels"] == session["masked_pixels"] == 2
    assert summary["mask"]["excluded"] == [[0, 5], [1, 3]]
    rewritten = summary["results"]["mask_written_at_run_time"]  # through the mask port
    assert rewritten["mismatches"] == 0 and rewritten["masked_pixels"] > 0
    for key in (
        "luts",
        "flip_flops",
        "dsps",
        "bram36",
        "logic_levels",
        "lanes",
        "cycles_per_frame",
        "real_time_margin",
    ):
        assert key in summary
    assert 0 < summary["luts"] < 3000 and summary["dsps"] <= 4 and summary["logic_levels"] > 0
    assert summary["bram36_history"] > 0
    for name in ("uvhunt_core.v", "uvhunt_core.il", "core.json", "summary.json", "results.xml"):
        assert (tmp_path / "core" / name).is_file(), name
    golden, config = read_export(exported)
    reference = CoreReference(golden, config.preprocessing)
    with np.load(tmp_path / "core" / "stream.npz") as streams:
        for name in ("varied", "extremes"):  # the low code met at a tie and just below a code
            codes = reference.gate_parts(streams[name])[3]
            low = streams[f"{name}_gate_low_thresholds"][:, None]
            assert (codes == low).any() and (codes == low + 1).any(), name
    scores = np.load(tmp_path / "core" / "results" / "session_scores.npy")
    assert scores.shape == (FRAMES, PIXELS) and np.any(scores[47:] != 0)
    hls = summary["hls"]  # the HLS core: g++ C simulation of the same streams, reset between
    assert hls["mismatches"] == 0 and hls["windows_compared"] >= session["windows"]
    assert hls["synthesis"]["status"] == "skipped"  # no Vitis here
    for name in ("firmware/uvhunt_core.cpp", "firmware/myproject.cpp", "build_uvhunt_core.tcl"):
        assert (tmp_path / "core" / "hls" / name).is_file(), name
    seu = summary["seu"]  # the campaigns: unprotected, and the default mitigation
    assert summary["mitigation"] == seu["default"]["mitigation"] == "parity_tmr"
    assert seu["none"]["mitigation"] == "none" and seu["default"] == seu["parity_tmr"]
    for level in ("none", "parity_tmr"):
        places = seu[level]["places"]
        assert set(places) == {"weight_rom", "history", "datapath", "control", "mask"}
        for counts in places.values():
            assert counts["injected"] == 20 == sum(counts[k] for k in OUTCOMES)
        outcomes = json.loads((tmp_path / "core" / seu[level]["outcomes_file"]).read_text())
        assert len(outcomes) == 100 and all(o["injected"] for o in outcomes)
    guarded = seu["parity_tmr"]["places"]
    for place in ("weight_rom", "history", "control"):  # every flip corrected, flagged, outvoted
        protected, bare = guarded[place], seu["none"]["places"][place]
        assert protected["silent"] == protected["hang"] == 0, place
        assert bare["corrected"] == bare["detected"] == 0 < bare["silent"], place
    assert guarded["weight_rom"]["corrected"] > 0  # a ROM word's copy served
    assert guarded["history"]["detected"] > 0 == guarded["history"]["corrected"]  # parity
    price, bare = seu["parity_tmr"]["price"], seu["none"]["price"]
    assert price["luts"] == summary["luts"] > bare["luts"]
    assert price["flip_flops"] > bare["flip_flops"] + 100


def test_hls_reuse_factors_are_sized_to_the_budget():
    model_rf, layers = reuse_factors([48, 64, 32, 1], 1185)  # 2,304 pixels, 100 MHz, margin 1.5
    assert layers == [768, 1024, 32] and max(layers) <= 1185
    _, small = reuse_factors([48, 64, 32, 1], 100)
    assert max(small) <= 100 and small[0] >= 48
    with pytest.raises(ValueError, match="at most 0 clocks"):
        reuse_factors([48, 64, 32, 1], 0)


def test_a_core_with_one_corrupted_weight_is_caught(
    exported, window_folder, tmp_path, capsys, monkeypatch
):
    real = core_stage.core_model
    golden = GoldenMLP.read(exported / "golden.npz").compile()
    windows = open_window_dataset(window_folder)
    codes = Preprocessing()(np.asarray(windows.values[:5000]), windows.meta["units"])
    active = (golden.trace(codes)["activations"][-1] > 0).mean(axis=0)
    unit = int(np.argmax(active))  # the last hidden unit most often active

    def corrupted(golden, preprocessing):
        model = real(golden, preprocessing)
        w = model["W"][-1]
        w[unit, 0] = w[unit, 0] + 1 if w[unit, 0] < 15 else w[unit, 0] - 1
        return model

    monkeypatch.setattr(core_stage, "core_model", corrupted)
    code = _core(
        exported, window_folder, tmp_path / "bad", "--stream-frames", "52", "--seu-faults", "0"
    )
    err = capsys.readouterr().err
    assert code == 2 and "differs from the golden model" in err
    # the finished folder stays, for its log and results (as `uvhunt cosim` does)
    summary = json.loads((tmp_path / "bad" / "summary.json").read_text())
    assert summary["mismatches"] > 0 and summary["tests"]["session_back_to_back"] == "failed"


def test_lanes_are_chosen_for_real_time(exported):
    golden, config = read_export(exported)
    model = core_model(golden, config.preprocessing)
    lanes, per_pixel = choose_lanes(model, CoreConfig())
    assert per_pixel * 2304 * 1.5 <= cycles_available(100.0)
    if lanes > 2:  # fewer lanes would miss the margin
        assert cycles_per_pixel(model, lanes - 2) * 2304 * 1.5 > cycles_available(100.0)
    assert cycles_per_pixel(model, 2) > cycles_per_pixel(model, 4)


def test_unmappable_models_are_refused_with_the_reason(exported):
    golden, config = read_export(exported)
    p = config.preprocessing
    with pytest.raises(ValueError, match="history_bits 10"):
        core_model(golden, replace(p, history_bits=10))
    with pytest.raises(ValueError, match="signed integers of 2…8 bits"):
        core_model(golden, replace(p, bits=p.bits + 1, history_bits=9))  # not the quantizer's
    with pytest.raises(ValueError, match="signed integers of 2…8 bits"):
        core_model(golden, replace(p, bits=10))


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--pixels", "0"], ["pixels must be"]),
        (["--lanes", "3"], ["lanes must be"]),
        (["--stream-frames", "20"], ["shorter than one window"]),
        (["--seu-places", "history,nowhere"], ["nowhere", "--seu-places", "weight_rom"]),
        (["--stream-frames", "49"], ["too short for the SEU campaign", "--seu-frames"]),
        (["--mask", "NO_MASK.npy"], ["NO_MASK.npy", "no such mask file", "--mask"]),
        (["--lanes", "2", "--pixels", "2304", "--strict", "--clock-mhz", "10"], ["margin"]),
    ],
)
def test_bad_core_settings_exit_2(exported, window_folder, tmp_path, capsys, extra, words):
    code = _core(exported, window_folder, tmp_path / "x", *extra)
    err = capsys.readouterr().err
    assert code == 2
    for word in words:
        assert word in err
    assert not (tmp_path / "x").exists()
