"""The ``resources`` stage: Yosys synthesis of the generated RTL for the 7-series family,
against da4ml's estimate, the part's capacity and the D3 real-time need."""

import time
from pathlib import Path

from hls.parts import PARTS
from hls.resources import real_time, synthesize, utilization
from hls.rtl import RtlDesign
from uvhunt.atomic import atomic_dir, check_output, write_json
from uvhunt.console import say
from uvhunt.rtl_stage import read_design


def resources_stage(rtl: Path, out: Path, quiet: bool = False) -> dict:
    check_output(out, [rtl])
    design: RtlDesign = read_design(Path(rtl))
    part = design.config["part"]
    start = time.perf_counter()
    with atomic_dir(out) as tmp:
        say(f"resources: Yosys synth_xilinx (log: {Path(out) / 'yosys.log'})", quiet)
        synthesis = synthesize(design, tmp)
        summary = {
            "rtl": str(rtl),
            "part": {
                "name": part,
                **{k: getattr(PARTS[part], k) for k in ("luts", "flip_flops", "dsps")},
            },
            "yosys": synthesis,
            "estimate": design.estimate,
            "utilization": utilization(synthesis, part),
            "real_time": real_time(design.config["clock_period_ns"], design.latency),
            "seconds": round(time.perf_counter() - start, 1),
        }
        write_json(tmp / "resources.json", summary)
    return {"out": str(out), **summary}


RESOURCE_HEADERS = ["resource", "Yosys", "da4ml estimate", "available", "used"]


def resource_rows(summary: dict) -> list[list[str]]:
    """The resource table of a ``resources_stage`` summary (columns ``RESOURCE_HEADERS``)."""
    y, est, part, use = (summary[k] for k in ("yosys", "estimate", "part", "utilization"))
    return [
        [
            "LUTs",
            f"{y['luts']:,}",
            f"{est['luts']:,.0f}",
            f"{part['luts']:,}",
            f"{use['luts']:.1%}",
        ],
        [
            "flip-flops",
            f"{y['flip_flops']:,}",
            f"{est['flip_flops']:,}",
            f"{part['flip_flops']:,}",
            f"{use['flip_flops']:.1%}",
        ],
        ["CARRY4", f"{y['carry4']:,}", "", "", ""],
        ["DSPs", f"{y['dsps']:,}", "0", f"{part['dsps']:,}", f"{use['dsps']:.1%}"],
    ]


def real_time_sentence(rt: dict) -> str:
    """Latency, throughput and margin against the D3 need, in one line."""
    return (
        f"latency {rt['latency_cycles']} cycles = {rt['latency_us']:.2f} µs at "
        f"{rt['clock_mhz']:.0f} MHz; one window per clock = {rt['windows_per_second']:,.0f}"
        f" windows/s, {rt['margin']:,.0f}× the D3 need of "
        f"{rt['d3_windows_per_second']:,} windows/s"
    )
