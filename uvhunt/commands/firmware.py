"""Generate the HLS firmware project of the exported model with hls4ml (Vitis by default),
compile its C simulation and check it equals the integer golden model on every vector;
with --synth, run the vendor's HLS synthesis where it is installed."""

from pathlib import Path

from hls.parts import DEFAULT_PART, PARTS
from hls.project import BACKENDS, STRATEGIES, FirmwareConfig
from uvhunt.console import emit, table
from uvhunt.firmware_stage import DEFAULT_VECTORS, firmware_stage
from uvhunt.run_layout import default_folder

NAME = "firmware"
HELP = "hls4ml HLS project of the exported model, with a bit-exact C simulation"


def add_arguments(p) -> None:
    p.add_argument(
        "--export",
        type=Path,
        default=default_folder("export"),
        help="folder written by `uvhunt export` (model.onnx)",
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
        help="window data set: test-bench vectors and the accuracy comparison",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=default_folder("firmware"),
        help="firmware project folder (replaced)",
    )
    p.add_argument("--backend", default="Vitis", help=f"one of {', '.join(BACKENDS)}")
    p.add_argument("--part", default=DEFAULT_PART, help=f"FPGA part: {', '.join(PARTS)}")
    p.add_argument("--clock-period", type=float, default=10.0, help="target clock period, ns")
    p.add_argument(
        "--reuse-factor",
        type=int,
        default=1,
        help="multiplications per multiplier (1: fully parallel)",
    )
    p.add_argument("--strategy", default="Latency", help=f"one of {', '.join(STRATEGIES)}")
    p.add_argument(
        "--vectors",
        type=int,
        default=DEFAULT_VECTORS,
        help="vectors compared between the C simulation and the golden model",
    )
    p.add_argument(
        "--synth",
        action="store_true",
        help="run HLS synthesis (needs vitis_hls / vivado_hls on PATH)",
    )
    p.add_argument("--cosim", action="store_true", help="with --synth: also co-simulate")
    p.add_argument("--seed", type=int, default=0, help="seeds the vectors")


def main(args) -> int:
    config = FirmwareConfig(
        backend=args.backend,
        part=args.part,
        clock_period_ns=args.clock_period,
        reuse_factor=args.reuse_factor,
        strategy=args.strategy,
    )
    summary = firmware_stage(
        args.export,
        args.model,
        args.windows,
        args.out,
        config,
        args.vectors,
        args.synth,
        args.cosim,
        args.seed,
    )
    emit(summary, render(summary), args.json)
    return 0


def render(summary: dict) -> str:
    rows = [[r["vectors"], r["count"], r["mismatches"]] for r in summary["csim_vs_golden"]]
    a, s = summary["accuracy"], summary["synthesis"]
    fw = summary["firmware"]
    return "\n".join(
        [
            table(rows, ["vectors", "count", "C-sim ≠ golden"]),
            "",
            f"{summary['vectors_compared']:,} vectors: hls4ml C simulation = golden, bit for bit",
            f"ROC AUC on {a['windows']:,} windows: float {a['float_auc']:.4f}, C-sim "
            f"{a['csim_auc']:.4f} (quantization loss {a['quantization_loss']:+.4f})",
            f"synthesis: {s['status']}" + (f" — {s['message']}" if "message" in s else ""),
            f"{fw['backend']} project for {fw['part']} at {fw['clock_period_ns']} ns written to "
            f"{summary['out']}/hls ({summary['seconds']} s)",
        ]
    )
