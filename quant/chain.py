"""The bit-exact chain after QAT: brevitas forward = QONNX execution = integer golden model.

Outputs are compared as integers — each divided by the output scale 2**exponent, which must
leave an integer — with exact equality; "close" counts as a mismatch.
"""

import numpy as np
import torch

from quant.export import load_qonnx, run_qonnx
from quant.golden import GoldenMLP
from quant.models import QuantMLP


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


def compare_chain(
    model: QuantMLP, onnx_path, golden: GoldenMLP, vectors: dict[str, np.ndarray]
) -> list[dict]:
    """Per vector group: vectors compared and mismatches of brevitas and QONNX to golden."""
    qonnx = load_qonnx(onnx_path)
    exponent = golden.output_exponent
    rows = []
    for name, q in vectors.items():
        reference = golden.predict_int(q)
        brevitas = as_integers(brevitas_outputs(model, q), exponent)
        executed = as_integers(run_qonnx(qonnx, q).reshape(-1), exponent)
        rows.append(
            {
                "vectors": name,
                "count": int(len(q)),
                "brevitas_mismatches": int(np.sum(brevitas != reference)),
                "qonnx_mismatches": int(np.sum(executed != reference)),
            }
        )
    return rows
