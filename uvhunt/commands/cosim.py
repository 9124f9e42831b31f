"""Co-simulate the generated RTL with cocotb in Verilator (default) or Icarus Verilog: stress
vectors, real windows and random vectors back to back, gaps in the input valid, a reset in the
middle of a stream; every output compared exactly with the golden model. Writes a JUnit XML
and a summary (vectors, mismatches, cycles, throughput, RTL versus float ROC AUC)."""

from pathlib import Path

from sim.simulators import SIMULATORS
from uvhunt.console import emit, table
from uvhunt.cosim_stage import DEFAULT_VECTORS, cosim_stage
from uvhunt.run_layout import default_folder

NAME = "cosim"
HELP = "cocotb co-simulation of the RTL (Verilator or Icarus), bit-exact with the golden model"


def add_arguments(p) -> None:
    p.add_argument(
        "--rtl",
        type=Path,
        default=default_folder("rtl"),
        help="folder written by `uvhunt rtl`",
    )
    p.add_argument(
        "--model",
        type=Path,
        default=default_folder("train"),
        help="model folder (the float model, for the accuracy comparison)",
    )
    p.add_argument(
        "--windows",
        type=Path,
        default=default_folder("windows"),
        help="window data set: the real windows streamed through the RTL",
    )
    p.add_argument(
        "--out", type=Path, default=default_folder("cosim"), help="results folder (replaced)"
    )
    p.add_argument("--simulator", default="verilator", help=f"one of {', '.join(SIMULATORS)}")
    p.add_argument(
        "--vectors",
        type=int,
        default=DEFAULT_VECTORS,
        help="vectors streamed back to back: the stress groups, the windows, then random "
        "vectors up to this many; fewer thins every group evenly (for Icarus)",
    )
    p.add_argument("--waves", action="store_true", help="record waveforms (and keep the build)")
    p.add_argument("--seed", type=int, default=0, help="seeds the vectors")


def main(args) -> int:
    summary = cosim_stage(
        args.rtl,
        args.model,
        args.windows,
        args.out,
        args.simulator,
        args.vectors,
        args.waves,
        args.seed,
        quiet=args.quiet,
    )
    emit(summary, render(summary), args.json)
    return 0


def render(summary: dict) -> str:
    rows = [
        [name, count, summary["group_mismatches"][name]]
        for name, count in summary["groups"].items()
    ]
    a, s = summary["accuracy"], summary["simulator"]
    tests = ", ".join(f"{n} {v}" for n, v in summary["tests"].items())
    return "\n".join(
        [
            table(rows, ["vectors", "count", "RTL ≠ golden"]),
            "",
            f"tests: {tests}",
            f"{summary['outputs_compared']:,} outputs compared, {summary['mismatches']} "
            f"mismatches; {summary['vectors']:,} vectors in {summary['cycles']:,} cycles "
            f"(latency {summary['latency']})",
            f"{s['name']} {s['version']}: build {summary['build_seconds']} s, "
            f"{summary['simulation_vectors_per_second']:,.0f} vectors/s simulated",
            f"ROC AUC on {a['windows']:,} windows: float {a['float_auc']:.4f}, RTL "
            f"{a['rtl_auc']:.4f} (quantization loss {a['quantization_loss']:+.4f})"
            if a["float_auc"] is not None
            else f"ROC AUC: not defined on {a['windows']:,} windows of one class",
            f"RTL logit minus float logit on those windows: mean |Δ| "
            f"{a['logit_deviation_mean']:.3f}, max |Δ| {a['logit_deviation_max']:.3f}",
            f"JUnit XML and summary in {summary['out']}",
        ]
    )
