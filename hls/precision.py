"""hls4ml precisions that make the C simulation equal the integer golden model.

Why hls4ml's default conversion is not exact: it gives the graph input the default precision
(``fixed<16,6>``) instead of the input ``Quant`` node's range, so inputs of magnitude 32 or
more wrap before the first layer, and inputs beyond the range wrap instead of saturating.
Everything after the input is derived correctly by hls4ml from the QONNX ``Quant`` nodes when
the model is built as ``quant/`` builds it: power-of-two scales (hls4ml folds them into
``fixed`` types, no scaling layers), biases quantized at the accumulator scale (exact
``bias_t``), and ``ROUND`` mapped to ``AP_RND_CONV`` (half to even) with ``AP_SAT`` on the
ReLU outputs. So the fix is one derived precision: the input's, from the input ``Quant``.
"""

import hls4ml
from qonnx.core.modelwrapper import ModelWrapper

from uvhunt.quant.qonnx_io import QuantSpec

DEFAULT_PRECISION = "fixed<16,6>"
"""hls4ml's fallback; every precision on the data path is derived, this one is never used
on it (the check compares the C simulation with the golden model on every run)."""


def fixed_type(spec: QuantSpec) -> str:
    """The ap_fixed type holding integers ``[spec.low, spec.high] × 2**spec.exponent``, with
    round-half-to-even and saturation as a QONNX ``Quant`` node applies them."""
    integer_bits = spec.bits + spec.exponent
    kind = "fixed" if spec.signed else "ufixed"
    return f"{kind}<{spec.bits},{integer_bits},RND_CONV,SAT>"


def hls_config(
    model: ModelWrapper, input_quant: QuantSpec, backend: str, reuse_factor: int, strategy: str
) -> dict:
    """hls4ml configuration (per layer) for a QONNX file written by ``uvhunt export``."""
    config = hls4ml.utils.config.config_from_onnx_model(
        model, granularity="name", backend=backend, default_precision=DEFAULT_PRECISION
    )
    input_name = model.graph.input[0].name
    config["LayerName"][input_name]["Precision"]["result"] = fixed_type(input_quant)
    config["Model"]["ReuseFactor"] = reuse_factor
    config["Model"]["Strategy"] = strategy
    for layer in config["LayerName"].values():
        layer["Trace"] = True
        if "ReuseFactor" in layer:  # per-layer entries would override the model's
            layer["ReuseFactor"] = reuse_factor
    return config
