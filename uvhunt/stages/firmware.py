"""Generate the HLS firmware project of the exported model with hls4ml (Vitis by default),
compile its C simulation and check it equals the integer golden model on every vector;
with --synth, run the vendor's HLS synthesis where it is installed."""

import shutil
import time
from pathlib import Path

from uvhunt._core.atomic import atomic_dir, check_output, write_json
from uvhunt._core.errors import UvhuntError
from uvhunt._core.tools import find_hls_tool, missing_tool_message
from uvhunt.console import accuracy_sentence, table
from uvhunt.hls.parts import PARTS
from uvhunt.hls.project import (
    BACKENDS,
    STRATEGIES,
    FirmwareConfig,
    build_project,
    check_accumulators,
    csim_predict,
    first_divergence,
    layer_precisions,
    write_testbench,
)
from uvhunt.quant.chain import as_integers, compare_groups
from uvhunt.quant.checkpoint import file_sha256, load_models, load_trained_on
from uvhunt.quant.data import comparison_windows
from uvhunt.quant.golden import GoldenMLP
from uvhunt.quant.metrics import hardware_accuracy
from uvhunt.quant.training import float_logits
from uvhunt.quant.vectors import stimulus
from uvhunt.stages.stage import Input, Stage

DEFAULT_VECTORS = 100_000
"""Vectors compared between the C simulation and the golden model, at least."""
TESTBENCH_VECTORS = 1_000
DEFAULT = FirmwareConfig()


def add_options(p) -> None:
    d = DEFAULT
    p.add_argument("--backend", default=d.backend, help=f"one of {', '.join(BACKENDS)}")
    p.add_argument("--part", default=d.part, help=f"FPGA part: {', '.join(PARTS)}")
    p.add_argument(
        "--clock-period", type=float, default=d.clock_period_ns, help="target clock period, ns"
    )
    p.add_argument(
        "--reuse-factor",
        type=int,
        default=d.reuse_factor,
        help="multiplications per multiplier (1: fully parallel)",
    )
    p.add_argument("--strategy", default=d.strategy, help=f"one of {', '.join(STRATEGIES)}")
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


def run(args, progress) -> dict:
    export, model_folder, windows, out = args.export, args.model, args.windows, args.out
    check_output(out, [export, model_folder, windows])
    config = FirmwareConfig(
        backend=args.backend,
        part=args.part,
        clock_period_ns=args.clock_period,
        reuse_factor=args.reuse_factor,
        strategy=args.strategy,
    )
    try:
        config.validate()
    except ValueError as exc:
        raise UvhuntError(
            f"invalid firmware setting: {exc}", fix="see `uvhunt firmware --help`"
        ) from exc
    onnx_path = Path(export) / "model.onnx"
    golden = GoldenMLP.from_qonnx(onnx_path).compile()
    model_config, train_config, float_model, _, _ = load_models(model_folder)
    start = time.perf_counter()
    real = comparison_windows(
        windows, train_config, args.seed, trained_on=load_trained_on(model_folder)
    )
    q_real = model_config.preprocessing(real.values, real.units)
    groups = stimulus(golden, model_config, q_real, args.vectors, args.seed)
    with atomic_dir(out) as tmp:
        testbench = write_testbench(
            tmp / "tb_data", q_real[:TESTBENCH_VECTORS], golden.predict(q_real[:TESTBENCH_VECTORS])
        )
        hls_model, hls_cfg = build_project(onnx_path, golden, tmp / "project", config, testbench)
        shutil.rmtree(tmp / "tb_data")  # hls4ml copied the files into project/tb_data
        try:
            check_accumulators(hls_model, golden)
        except ValueError as exc:
            raise UvhuntError(str(exc), path=onnx_path, fix="report this as a bug") from exc
        outputs: dict = {}
        rows = compare_groups(
            golden,
            groups,
            {
                "mismatches": lambda q: as_integers(
                    csim_predict(hls_model, q), golden.output_exponent
                )
            },
            outputs,
        )
        for row in rows:
            if row["mismatches"]:
                where = first_divergence(hls_model, golden, groups[row["vectors"]])
                raise UvhuntError(
                    f"C simulation differs from the golden model on {row['mismatches']} "
                    f"of {row['count']} '{row['vectors']}' vectors; first divergence: {where}",
                    path=onnx_path,
                    fix="report this as a bug with the export",
                )
        csim_real = outputs["windows"]["mismatches"] * 2.0**golden.output_exponent
        accuracy = {
            **hardware_accuracy(
                real.label,
                float_logits(float_model, model_config, real.values, real.units),
                csim_real,
                "csim",
            ),
            "not_meteor_windows_unseen_in_training": int((real.label == 0).sum()),
        }
        tool = find_hls_tool(config.backend)
        synthesis = (
            {"tool": tool, "status": "skipped", "message": missing_tool_message(config.backend)}
            if tool is None or not args.synth
            else _synthesize(hls_model, args.cosim)
        )
        manifest = {
            "export": str(export),
            "qonnx_sha256": file_sha256(onnx_path),
            "model_config": model_config.to_dict(),
            "firmware": config.to_dict(),
            "hls_config": hls_cfg,
            "precisions": layer_precisions(hls_model),
            "csim_vs_golden": rows,
            "vectors_compared": sum(r["count"] for r in rows),
            "accuracy": accuracy,
            "synthesis": synthesis,
            "seconds": round(time.perf_counter() - start, 1),
        }
        write_json(tmp / "manifest.json", manifest)
    return {"out": str(out), **manifest}


def _synthesize(hls_model, cosim: bool) -> dict:
    """Run the vendor tool (C synthesis, optionally co-simulation) and parse its reports."""
    import hls4ml

    report = hls_model.build(csim=False, synth=True, cosim=cosim, export=False)
    parsed = hls4ml.report.parse_vivado_report(hls_model.config.get_output_dir())
    return {"status": "done", "build": report, "report": parsed}


def render(summary: dict) -> str:
    rows = [[r["vectors"], r["count"], r["mismatches"]] for r in summary["csim_vs_golden"]]
    a, s = summary["accuracy"], summary["synthesis"]
    fw = summary["firmware"]
    return "\n".join(
        [
            table(rows, ["vectors", "count", "C-sim ≠ golden"]),
            "",
            f"{summary['vectors_compared']:,} vectors: hls4ml C simulation = golden, bit for bit",
            accuracy_sentence(a, "C-sim", "csim_auc"),
            f"synthesis: {s['status']}" + (f" — {s['message']}" if "message" in s else ""),
            f"{fw['backend']} project for {fw['part']} at {fw['clock_period_ns']} ns written to "
            f"{summary['out']}/project ({summary['seconds']} s)",
        ]
    )


STAGE = Stage(
    name="firmware",
    folder="firmware/hls",
    help="hls4ml HLS project of the exported model, with a bit-exact C simulation",
    description=__doc__,
    add_options=add_options,
    run=run,
    render=render,
    inputs=(
        Input("export", "export", "folder written by `uvhunt export` (model.onnx)"),
        Input("model", "train", "model folder (the float model, for the accuracy comparison)"),
        Input(
            "windows",
            "windows",
            "window data set: test-bench vectors and the accuracy comparison",
        ),
    ),
    out_help="HLS project folder (replaced); beside the RTL in the firmware folder",
)
