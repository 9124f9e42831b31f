"""The bit-exact chain after QAT: brevitas forward = QONNX execution = integer golden model.

Outputs are compared as integers — each divided by the output scale 2**exponent, which must
leave an integer — with exact equality; "close" counts as a mismatch.
"""

from collections.abc import Callable

import numpy as np
import torch

from uvhunt.quant.golden import GoldenMLP
from uvhunt.quant.models import QuantMLP
from uvhunt.quant.qonnx_io import load_qonnx, run_qonnx


def as_integers(values: np.ndarray, exponent: int) -> np.ndarray:
    """Outputs divided by their scale; a value that is not an integer becomes -2**62 so that
    it can never equal the golden model's integer."""
    scaled = np.ldexp(np.asarray(values, dtype=np.float64), -exponent)
    exact = scaled == np.round(scaled)
    return np.where(exact, np.round(scaled), -(2.0**62)).astype(np.int64)


def brevitas_outputs(model: QuantMLP, q: np.ndarray) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return model(torch.from_numpy(np.asarray(q, np.float32))).numpy().astype(np.float64)


def compare_groups(
    golden: GoldenMLP,
    groups: dict[str, np.ndarray],
    candidates: dict[str, Callable[[np.ndarray], np.ndarray]],
    outputs: dict[str, dict[str, np.ndarray]] | None = None,
) -> list[dict]:
    """Every model of the chain checked the same way: per vector group (input integers), the
    vectors compared and, per candidate (a function giving output integers, e.g. through
    ``as_integers``), the outputs unequal to the golden model's, in the column of the
    candidate's name. Empty groups are left out. ``outputs``, if given, receives each
    candidate's outputs per group."""
    rows = []
    for group, q in groups.items():
        if not len(q):
            continue
        reference = golden.predict_int(q)
        row = {"vectors": group, "count": int(len(q))}
        for column, predict in candidates.items():
            got = predict(q)
            row[column] = int(np.sum(got != reference))
            if outputs is not None:
                outputs.setdefault(group, {})[column] = got
        rows.append(row)
    return rows


def compare_chain(
    model: QuantMLP, onnx_path, golden: GoldenMLP, vectors: dict[str, np.ndarray]
) -> list[dict]:
    """Per vector group: vectors compared and mismatches of brevitas and QONNX to golden."""
    qonnx = load_qonnx(onnx_path)
    exponent = golden.output_exponent
    return compare_groups(
        golden,
        vectors,
        {
            "brevitas_mismatches": lambda q: as_integers(brevitas_outputs(model, q), exponent),
            "qonnx_mismatches": lambda q: as_integers(run_qonnx(qonnx, q).reshape(-1), exponent),
        },
    )
