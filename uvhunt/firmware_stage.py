"""The ``firmware`` stage: an hls4ml project of the exported model, its C simulation compared
with the integer golden model on every vector, and the float-versus-C-sim accuracy."""

import shutil
import time
from pathlib import Path

import numpy as np

from hls.project import (
    FirmwareConfig,
    build_project,
    check_accumulators,
    csim_predict,
    first_divergence,
    layer_precisions,
    write_testbench,
)
from hls.vendor import find_hls_tool, missing_tool_message
from quant.chain import as_integers
from quant.checkpoint import file_sha256, load_models
from quant.golden import GoldenMLP
from quant.metrics import auc
from quant.preprocess import float_residual
from quant.training import scores
from quant.vectors import stimulus
from uvhunt.atomic import atomic_dir, check_output, write_json
from uvhunt.comparison_windows import comparison_windows
from uvhunt.errors import UvhuntError

DEFAULT_VECTORS = 100_000
"""Vectors compared between the C simulation and the golden model, at least."""
TESTBENCH_VECTORS = 1_000


def firmware_stage(
    export: Path,
    model_folder: Path,
    windows: Path,
    out: Path,
    config: FirmwareConfig,
    vectors: int = DEFAULT_VECTORS,
    synth: bool = False,
    cosim: bool = False,
    seed: int = 0,
) -> dict:
    check_output(out, [export, model_folder, windows])
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
    real = comparison_windows(windows, train_config, seed)
    q_real = model_config.preprocessing(real.values, real.units)
    groups = stimulus(golden, model_config, q_real, vectors, seed)
    with atomic_dir(out) as tmp:
        testbench = write_testbench(
            tmp / "tb_data", q_real[:TESTBENCH_VECTORS], golden.predict(q_real[:TESTBENCH_VECTORS])
        )
        hls_model, hls_cfg = build_project(onnx_path, golden, tmp / "hls", config, testbench)
        shutil.rmtree(tmp / "tb_data")  # hls4ml copied the files into hls/tb_data
        try:
            check_accumulators(hls_model, golden)
        except ValueError as exc:
            raise UvhuntError(str(exc), path=onnx_path, fix="report this as a bug") from exc
        rows, csim_real = [], None
        for name, q in groups.items():
            csim = csim_predict(hls_model, q)
            mismatches = int(
                np.sum(as_integers(csim, golden.output_exponent) != golden.predict_int(q))
            )
            rows.append({"vectors": name, "count": int(len(q)), "mismatches": mismatches})
            if name == "windows":
                csim_real = csim
            if mismatches:
                where = first_divergence(hls_model, golden, q)
                raise UvhuntError(
                    f"C simulation differs from the golden model on {mismatches} "
                    f"of {len(q)} '{name}' vectors; first divergence: {where}",
                    path=onnx_path,
                    fix="report this as a bug with the export",
                )
        float_scores = scores(
            float_model, float_residual(real.values, real.units, model_config.preprocessing)
        )
        accuracy = {
            "windows": int(len(real)),
            "meteor_windows": int((real.label == 1).sum()),
            "not_meteor_windows_unseen_in_training": int((real.label == 0).sum()),
            "float_auc": auc(real.label, float_scores),
            "csim_auc": auc(real.label, csim_real),
        }
        accuracy["quantization_loss"] = accuracy["float_auc"] - accuracy["csim_auc"]
        tool = find_hls_tool(config.backend)
        synthesis = (
            {"tool": tool, "status": "skipped", "message": missing_tool_message(config.backend)}
            if tool is None or not synth
            else _synthesize(hls_model, cosim)
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
