"""Synthesize the generated RTL with Yosys (`synth_xilinx -family xc7`) and report LUT, FF,
CARRY4 and DSP counts and the pipeline latency, next to da4ml's estimate, the part's capacity
and the real-time margin against the D3 need of 56,250 windows/s."""

import time
from pathlib import Path

from uvhunt._core.atomic import atomic_dir, check_output, write_json
from uvhunt.console import say, table
from uvhunt.hls.parts import PARTS
from uvhunt.hls.resources import real_time, synthesize, utilization
from uvhunt.hls.rtl import RtlDesign
from uvhunt.stages.rtl import read_design
from uvhunt.stages.stage import Input, Stage


def run(args, progress) -> dict:
    rtl, out, quiet = args.rtl, args.out, args.quiet
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


def add_options(p) -> None:
    """None of its own: the RTL folder holds the design, its part and its clock."""


def render(summary: dict) -> str:
    headers = [*RESOURCE_HEADERS[:3], summary["part"]["name"], RESOURCE_HEADERS[4]]
    return "\n".join(
        [
            table(resource_rows(summary), headers),
            "",
            real_time_sentence(summary["real_time"]),
            f"Yosys {summary['yosys']['seconds']} s; report in {summary['out']}",
        ]
    )


STAGE = Stage(
    name="resources",
    folder="resources",
    help="open-source synthesis (Yosys) of the RTL: LUTs, FFs, DSPs, latency, real-time margin",
    description=__doc__,
    add_options=add_options,
    run=run,
    render=render,
    inputs=(Input("rtl", "rtl", "folder written by `uvhunt rtl`"),),
    out_help="report folder (replaced)",
)
