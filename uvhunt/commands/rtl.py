"""Generate the exported network as pipelined Verilog (da4ml's adder graph plus a top level
with clock, reset and valid signals), after checking the traced graph against the golden
model on stress and random vectors."""

from pathlib import Path

from hls.parts import DEFAULT_PART, PARTS
from hls.rtl import RtlConfig
from uvhunt.console import emit, table
from uvhunt.rtl_stage import rtl_stage
from uvhunt.run_layout import default_folder

NAME = "rtl"
HELP = "the exported network as pipelined Verilog (da4ml), one vector per clock"


def add_arguments(p) -> None:
    p.add_argument(
        "--export",
        type=Path,
        default=default_folder("export"),
        help="folder written by `uvhunt export` (model.onnx)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=default_folder("rtl"),
        help="RTL folder (replaced); by default inside the firmware project",
    )
    p.add_argument(
        "--latency-cutoff",
        type=float,
        default=RtlConfig.latency_cutoff,
        help="adder delays between pipeline registers: smaller gives more stages and a "
        "faster clock",
    )
    p.add_argument("--clock-period", type=float, default=10.0, help="target clock period, ns")
    p.add_argument("--part", default=DEFAULT_PART, help=f"FPGA part: {', '.join(PARTS)}")
    p.add_argument("--seed", type=int, default=0, help="seeds the check vectors")


def main(args) -> int:
    config = RtlConfig(
        latency_cutoff=args.latency_cutoff, clock_period_ns=args.clock_period, part=args.part
    )
    summary = rtl_stage(args.export, args.out, config, args.seed)
    emit(summary, render(summary), args.json)
    return 0


def render(summary: dict) -> str:
    d = summary["design"]
    rows = [[r["vectors"], r["count"], r["mismatches"]] for r in summary["trace_vs_golden"]]
    est = d["estimate"]
    return "\n".join(
        [
            table(rows, ["vectors", "count", "adder graph ≠ golden"]),
            "",
            f"{d['inputs']} × {d['input_bits']}-bit inputs → {d['output_bits']}-bit output "
            f"(× 2^{d['output_exponent']}), {d['latency']} clocks latency, one vector per clock",
            f"{est['generator']} estimate: {est['luts']:,.0f} LUTs, {est['flip_flops']:,} "
            f"flip-flops, {est['stages']} stages",
            f"Verilog written to {summary['out']} (top module uvhunt_top, {summary['seconds']} s)",
        ]
    )
