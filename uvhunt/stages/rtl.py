"""Generate the exported network as pipelined Verilog (da4ml's adder graph plus a top level
with clock, reset and valid signals), after checking the traced graph against the golden
model on stress and random vectors."""

import time
from pathlib import Path

import numpy as np

from uvhunt._core.atomic import atomic_dir, check_output
from uvhunt._core.errors import UvhuntError
from uvhunt.console import table
from uvhunt.hls.parts import PARTS
from uvhunt.hls.rtl import RtlConfig, RtlDesign, check_trace, generate_rtl, write_design
from uvhunt.hls.rtl_trace import trace_network
from uvhunt.quant.checkpoint import file_sha256
from uvhunt.quant.golden import GoldenMLP, read_export
from uvhunt.quant.vectors import stimulus
from uvhunt.stages.stage import Input, Stage

TRACE_CHECK_VECTORS = 20_000
"""Vectors (stress groups, then random) on which da4ml's interpreter of the traced adder graph
must equal the golden model before the RTL is written."""
DEFAULT = RtlConfig()


def add_options(p) -> None:
    d = DEFAULT
    p.add_argument(
        "--latency-cutoff",
        type=float,
        default=d.latency_cutoff,
        help="adder delays between pipeline registers: smaller gives more stages and a "
        "faster clock",
    )
    p.add_argument(
        "--clock-period", type=float, default=d.clock_period_ns, help="target clock period, ns"
    )
    p.add_argument("--part", default=d.part, help=f"FPGA part: {', '.join(PARTS)}")
    p.add_argument("--seed", type=int, default=0, help="seeds the check vectors")


def run(args, progress) -> dict:
    export, out = args.export, args.out
    check_output(out, [export])
    config = RtlConfig(
        latency_cutoff=args.latency_cutoff, clock_period_ns=args.clock_period, part=args.part
    )
    try:
        config.validate()
    except ValueError as exc:
        raise UvhuntError(f"invalid RTL setting: {exc}", fix="see `uvhunt rtl --help`") from exc
    onnx_path = Path(export) / "model.onnx"
    golden = GoldenMLP.from_qonnx(onnx_path).compile()
    _, model_config = read_export(Path(export))
    peak_input = model_config.preprocessing.peak_input
    start = time.perf_counter()
    try:
        comb = trace_network(golden, peak_input)
    except (ValueError, AssertionError) as exc:
        raise UvhuntError(
            f"da4ml cannot map this model: {exc}",
            path=onnx_path,
            fix="export a dense ReLU MLP with power-of-two quantizers (`uvhunt export`)",
        ) from exc
    empty = np.zeros((0, golden.sizes[0]), np.int32)
    groups = stimulus(golden, model_config, empty, TRACE_CHECK_VECTORS, args.seed)
    rows = check_trace(golden, comb, groups, peak_input, args.seed)
    for row in rows:
        if row["mismatches"]:
            raise UvhuntError(
                f"the traced adder graph differs from the golden model on {row['mismatches']} "
                f"of {row['count']} '{row['vectors']}' vectors",
                path=onnx_path,
                fix="report this as a bug in hls/rtl_trace.py",
            )
    with atomic_dir(out) as tmp:
        try:
            design = generate_rtl(golden, comb, tmp, config)
        except ValueError as exc:
            raise UvhuntError(
                f"da4ml cannot map this model: {exc}",
                path=onnx_path,
                fix="see docs/commands/rtl.md",
            ) from exc
        golden.write(tmp / "golden.npz")
        extra = {
            "export": str(export),
            "qonnx_sha256": file_sha256(onnx_path),
            "golden": golden.describe(),
            "trace_vs_golden": rows,
            "seconds": round(time.perf_counter() - start, 1),
        }
        write_design(design, extra)
    return {"out": str(out), "design": design.to_dict(), **extra}


def read_design(rtl: Path) -> RtlDesign:
    try:
        return RtlDesign.read(rtl)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UvhuntError(
            f"no readable RTL design ({exc})",
            path=Path(rtl) / "rtl.json",
            fix="generate it with `uvhunt rtl`",
        ) from exc


def render(summary: dict) -> str:
    d = summary["design"]
    rows = [[r["vectors"], r["count"], r["mismatches"]] for r in summary["trace_vs_golden"]]
    est = d["estimate"]
    return "\n".join(
        [
            table(rows, ["vectors", "count", "adder graph ≠ golden"]),
            "",
            f"{d['inputs']} × {d['input_bits']}-bit inputs"
            + (" (the window; the peak input computed inside)" if d.get("peak_input") else "")
            + f" → {d['output_bits']}-bit output "
            f"(× 2^{d['output_exponent']}), {d['latency']} clocks latency, one vector per clock",
            f"{est['generator']} estimate: {est['luts']:,.0f} LUTs, {est['flip_flops']:,} "
            f"flip-flops, {est['stages']} stages",
            f"Verilog written to {summary['out']} (top module uvhunt_top, {summary['seconds']} s)",
        ]
    )


STAGE = Stage(
    name="rtl",
    folder="firmware/rtl",
    help="the exported network as pipelined Verilog (da4ml), one vector per clock",
    description=__doc__,
    add_options=add_options,
    run=run,
    render=render,
    inputs=(Input("export", "export", "folder written by `uvhunt export` (model.onnx)"),),
    out_help="RTL folder (replaced); beside the HLS project in the firmware folder",
)
