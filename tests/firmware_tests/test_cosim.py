"""The pytest entry of the cocotb testbenches: a briefly trained model, exported, generated as
RTL and co-simulated with `uvhunt cosim` in Verilator: more than 10,000 vectors (stress groups,
real windows, random) back to back, gaps in the input valid, a reset mid-stream; every output
equal to the golden model's integer."""

import json
import shutil

import pytest

from uvhunt._core.errors import UvhuntError
from uvhunt._core.simulators import find_simulator
from uvhunt.cli import main

VECTORS = 20_000


def _icarus_reason(tmp_path_factory) -> str | None:
    try:
        find_simulator("icarus", tmp_path_factory.mktemp("shim"))
    except UvhuntError as exc:
        return str(exc).splitlines()[0]
    return None


@pytest.fixture(scope="module")
def rtl(trained):
    """The shared small model (``conftest.trained``) as RTL."""
    root = trained
    assert (
        main(["rtl", "--export", str(root / "export"), "--out", str(root / "rtl"), "--quiet"]) == 0
    )
    return root


def _cosim(root, window_folder, out, *extra):
    return main(
        [
            "cosim",
            "--rtl",
            str(root / "rtl"),
            "--model",
            str(root / "model"),
            "--windows",
            str(window_folder),
            "--out",
            str(out),
            "--vectors",
            str(VECTORS),
            "--quiet",
            *extra,
        ]
    )


@pytest.mark.slow
def test_verilator_rtl_equals_golden_on_every_vector(rtl, window_folder, capsys):
    out = rtl / "cosim"
    assert _cosim(rtl, window_folder, out, "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["simulator"]["name"] == "verilator"
    assert set(summary["tests"].values()) == {"passed"} and len(summary["tests"]) == 4
    assert summary["mismatches"] == 0
    assert summary["vectors"] >= 10_000 and summary["outputs_compared"] >= 10_000
    assert {"extremes", "saturating", "ties_layer0", "ties_layer1", "windows"} <= set(
        summary["groups"]
    )
    assert set(summary["group_mismatches"].values()) == {0}
    assert summary["cycles"] < summary["vectors"] + summary["latency"] + 5  # one per clock
    results = json.loads((out / "summary.json").read_text())
    assert results["accuracy"]["windows"] == summary["groups"]["windows"]
    assert 0.5 < results["accuracy"]["rtl_auc"] <= 1.0
    assert (out / "results.xml").is_file() and not (out / "build").exists()


@pytest.mark.slow
def test_a_wrong_output_bit_in_the_rtl_is_caught(rtl, window_folder, tmp_path, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(rtl, broken, ignore=shutil.ignore_patterns("cosim*"))
    top = broken / "rtl" / "uvhunt_top.v"
    text = top.read_text()
    assert "assign out_data = {core_out};" in text
    top.write_text(
        text.replace(
            "assign out_data = {core_out};",
            "assign out_data = {core_out} ^ (core_out[3] & core_out[5]);",
        )
    )
    out = tmp_path / "cosim"
    assert _cosim(broken, window_folder, out) == 2
    err = capsys.readouterr().err
    assert "co-simulation failed" in err and "outputs differ from the golden model" in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["mismatches"] > 0 and summary["tests"]["every_vector_back_to_back"] == "failed"


@pytest.mark.slow
def test_icarus_when_present(rtl, window_folder, tmp_path, tmp_path_factory):
    reason = _icarus_reason(tmp_path_factory)
    if reason:
        pytest.skip(f"Icarus Verilog is optional and not usable here: {reason}")
    # Icarus simulates this design at about 25 vectors/s: a thinned stimulus, every group.
    out = tmp_path / "icarus"
    code = main(
        [
            "cosim",
            "--rtl",
            str(rtl / "rtl"),
            "--model",
            str(rtl / "model"),
            "--windows",
            str(window_folder),
            "--out",
            str(out),
            "--vectors",
            "120",
            "--simulator",
            "icarus",
            "--quiet",
        ]
    )
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["simulator"]["name"] == "icarus" and summary["mismatches"] == 0
    assert set(summary["tests"].values()) == {"passed"}
    assert {"ties_layer0", "saturating", "windows"} <= set(summary["groups"])


@pytest.mark.slow
def test_a_failing_build_is_a_clear_error_with_nothing_written(
    rtl, window_folder, tmp_path, capsys
):
    broken = tmp_path / "broken"
    shutil.copytree(rtl, broken, ignore=shutil.ignore_patterns("cosim*"))
    top = broken / "rtl" / "uvhunt_top.v"
    top.write_text(top.read_text().replace("endmodule", ""))
    assert _cosim(broken, window_folder, tmp_path / "cosim") == 2
    err = capsys.readouterr().err
    assert "build of the RTL failed" in err and "build log ends" in err
    assert not (tmp_path / "cosim").exists()


@pytest.mark.slow
def test_waves_on_request_hold_the_top_level(rtl, window_folder, tmp_path):
    out = tmp_path / "waves"
    assert _cosim(rtl, window_folder, out, "--waves") == 0
    vcd = (out / "dump.vcd").read_text(errors="replace")[:200_000]
    for port in ("clk", "rst", "in_valid", "in_data", "out_valid", "out_data"):
        assert f" {port} " in vcd
    assert "stage0" not in vcd  # da4ml's internal nets are not traced


def test_asserts_are_rewritten_in_the_test_module_only_unless_the_user_chooses(monkeypatch):
    from uvhunt.sim.runner import REWRITE_ENV, simulation_env

    monkeypatch.delenv(REWRITE_ENV, raising=False)
    env = simulation_env("uvhunt.firmware_tests.seu_tests", {"UVHUNT_SEU": "c.json"})
    assert env == {REWRITE_ENV: "seu_tests.py", "UVHUNT_SEU": "c.json"}  # not torch's, numpy's
    assert simulation_env("m", {REWRITE_ENV: "*.py"})[REWRITE_ENV] == "*.py"
    monkeypatch.setenv(REWRITE_ENV, "")
    assert simulation_env("m", {})[REWRITE_ENV] == ""  # the user's: no rewriting at all
