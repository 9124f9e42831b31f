"""Export the QAT model to QONNX (cleaned as hls4ml expects), build the integer golden model
from that file, and check brevitas = QONNX = golden, bit for bit."""

from pathlib import Path

from uvhunt.console import emit, table
from uvhunt.model_export import export_stage
from uvhunt.run_layout import default_folder

NAME = "export"
HELP = "export the QAT model to QONNX and build the integer golden model"


def add_arguments(p) -> None:
    p.add_argument(
        "--model",
        type=Path,
        default=default_folder("train"),
        help="model folder written by `uvhunt train`",
    )
    p.add_argument(
        "--windows",
        type=Path,
        default=default_folder("windows"),
        help="data set whose windows are also checked through the chain",
    )
    p.add_argument(
        "--out", type=Path, default=default_folder("export"), help="export folder (replaced)"
    )
    p.add_argument("--seed", type=int, default=0, help="seeds the stress vectors")


def main(args) -> int:
    summary = export_stage(args.model, args.windows, args.out, args.seed)
    emit(summary, render(summary), args.json)
    return 0


def render(summary: dict) -> str:
    rows = [
        [r["vectors"], r["count"], r["brevitas_mismatches"], r["qonnx_mismatches"]]
        for r in summary["chain"]
    ]
    return "\n".join(
        [
            table(rows, ["vectors", "count", "brevitas ≠ golden", "QONNX ≠ golden"]),
            "",
            f"{summary['vectors_compared']:,} vectors: brevitas = QONNX = golden, bit for bit",
            f"golden model: {summary['golden_vectors_per_second']:,} vectors/s",
            f"QONNX and golden model written to {summary['out']}",
        ]
    )
