"""The ``rtl`` stage: the exported model as pipelined Verilog (da4ml plus uvhunt's top level),
its adder graph checked against the golden model before anything is written."""

import time
from pathlib import Path

import numpy as np

from hls.rtl import RtlConfig, RtlDesign, generate_rtl, interpret, write_design
from hls.rtl_trace import trace_network
from quant.checkpoint import file_sha256
from quant.config import ModelConfig
from quant.golden import GoldenMLP
from quant.vectors import stimulus
from uvhunt.atomic import atomic_dir, check_output
from uvhunt.errors import UvhuntError

TRACE_CHECK_VECTORS = 20_000
"""Vectors (stress groups, then random) on which da4ml's interpreter of the traced adder graph
must equal the golden model before the RTL is written."""


def rtl_stage(export: Path, out: Path, config: RtlConfig, seed: int = 0) -> dict:
    check_output(out, [export])
    try:
        config.validate()
    except ValueError as exc:
        raise UvhuntError(f"invalid RTL setting: {exc}", fix="see `uvhunt rtl --help`") from exc
    onnx_path = Path(export) / "model.onnx"
    golden = GoldenMLP.from_qonnx(onnx_path).compile()
    start = time.perf_counter()
    try:
        comb = trace_network(golden)
    except (ValueError, AssertionError) as exc:
        raise UvhuntError(
            f"da4ml cannot map this model: {exc}",
            path=onnx_path,
            fix="export a dense ReLU MLP with power-of-two quantizers (`uvhunt export`)",
        ) from exc
    length = golden.sizes[0]
    empty = np.zeros((0, length), np.int32)
    groups = stimulus(golden, ModelConfig(length=length), empty, TRACE_CHECK_VECTORS, seed)
    rows = []
    for name, q in groups.items():
        if not len(q):
            continue
        mismatches = int(np.sum(interpret(comb, golden.input_codes(q)) != golden.predict_int(q)))
        rows.append({"vectors": name, "count": int(len(q)), "mismatches": mismatches})
        if mismatches:
            raise UvhuntError(
                f"the traced adder graph differs from the golden model on {mismatches} of "
                f"{len(q)} '{name}' vectors",
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
            path=rtl / "rtl.json",
            fix="generate it with `uvhunt rtl`",
        ) from exc
