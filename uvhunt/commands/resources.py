"""Synthesize the generated RTL with Yosys (`synth_xilinx -family xc7`) and report LUT, FF,
CARRY4 and DSP counts and the pipeline latency, next to da4ml's estimate, the part's capacity
and the real-time margin against the D3 need of 56,250 windows/s."""

from pathlib import Path

from uvhunt.console import emit, table
from uvhunt.resources_stage import (
    RESOURCE_HEADERS,
    real_time_sentence,
    resource_rows,
    resources_stage,
)
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
    headers = [*RESOURCE_HEADERS[:3], summary["part"]["name"], RESOURCE_HEADERS[4]]
    return "\n".join(
        [
            table(resource_rows(summary), headers),
            "",
            real_time_sentence(summary["real_time"]),
            f"Yosys {summary['yosys']['seconds']} s; report in {summary['out']}",
        ]
    )
