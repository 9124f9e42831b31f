"""Resource counts: Yosys cells counted right, real synthesis of a small design, the
real-time margin."""

import numpy as np
import pytest

from tests.golden_models import random_golden
from uvhunt._core.errors import UvhuntError
from uvhunt.hls.resources import D3_WINDOWS_PER_SECOND, count, real_time, synthesize, utilization
from uvhunt.hls.rtl import RtlConfig, generate_rtl
from uvhunt.hls.rtl_trace import trace_network


def test_cells_are_counted_by_kind():
    cells = {
        "LUT2": 10,
        "LUT6": 5,
        "INV": 2,
        "SRL16E": 3,
        "FDRE": 7,
        "FDSE": 1,
        "CARRY4": 4,
        "DSP48E1": 1,
        "MUXF7": 2,
        "IBUF": 50,
    }
    got = count(cells)
    assert got["luts"] == 20 and got["luts_logic"] == 17 and got["luts_shift_register"] == 3
    assert (got["flip_flops"], got["carry4"], got["dsps"], got["muxf"]) == (8, 4, 1, 2)
    assert utilization(got, "xc7z030ffg676-2")["luts"] == pytest.approx(20 / 78_600)


def test_real_time_margin_at_100_mhz():
    rt = real_time(10.0, latency=15)
    assert D3_WINDOWS_PER_SECOND == pytest.approx(48 * 48 / 0.04096)
    assert rt["windows_per_second"] == 1e8
    assert rt["margin"] == pytest.approx(1e8 / 56_250)
    assert rt["latency_us"] == pytest.approx(0.15)


def test_yosys_synthesizes_a_small_design(tmp_path):
    golden = random_golden((48, 4, 1), 3, 4, (4,), seed=0)
    design = generate_rtl(golden, trace_network(golden), tmp_path / "rtl", RtlConfig())
    result = synthesize(design, tmp_path / "syn")
    assert result["luts"] > 50 and result["flip_flops"] > 48 * 8
    assert result["dsps"] == 0
    # Yosys' LUTs are of the order of da4ml's estimate.
    assert 0.5 < result["luts"] / design.estimate["luts"] < 2.0
    assert (tmp_path / "syn" / "yosys.log").is_file()
    broken = design.folder / "uvhunt_top.v"
    broken.write_text(broken.read_text().replace("endmodule", ""))
    with pytest.raises(UvhuntError, match="Yosys synthesis failed") as err:
        synthesize(design, tmp_path / "syn2")
    assert "yosys.log" in str(err.value)
    assert np.isfinite(result["seconds"])
