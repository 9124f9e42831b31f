"""Synthesize the generated RTL with Yosys (`synth_xilinx -family xc7`) and report LUT, FF,
CARRY4 and DSP counts and the pipeline latency, next to da4ml's estimate, the part's capacity
and the real-time margin against the D3 need of 56,250 windows/s."""

from pathlib import Path

from uvhunt.console import emit, table
from uvhunt.resources_stage import resources_stage
from uvhunt.run_layout import default_folder

NAME = "resources"
HELP = "open-source synthesis (Yosys) of the RTL: LUTs, FFs, DSPs, latency, real-time margin"


def add_arguments(p) -> None:
    p.add_argument(
        "--rtl",
        type=Path,
        default=default_folder("rtl"),
        help="folder written by `uvhunt rtl`",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=default_folder("resources"),
        help="report folder (replaced)",
    )


def main(args) -> int:
    summary = resources_stage(args.rtl, args.out, args.quiet)
    emit(summary, render(summary), args.json)
    return 0


def render(summary: dict) -> str:
    y, est, part, use = (
        summary["yosys"],
        summary["estimate"],
        summary["part"],
        summary["utilization"],
    )
    rt = summary["real_time"]
    rows = [
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
    return "\n".join(
        [
            table(rows, ["resource", "Yosys", "da4ml estimate", part["name"], "used"]),
            "",
            f"latency {rt['latency_cycles']} cycles = {rt['latency_us']:.2f} µs at "
            f"{rt['clock_mhz']:.0f} MHz; one window per clock = {rt['windows_per_second']:,.0f}"
            f" windows/s, {rt['margin']:,.0f}× the D3 need of "
            f"{rt['d3_windows_per_second']:,} windows/s",
            f"Yosys {y['seconds']} s; report in {summary['out']}",
        ]
    )
