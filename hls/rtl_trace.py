"""The golden model's integer arithmetic traced with da4ml into an adder graph (``CombLogic``).

Everything is traced in integer units (the golden model's integers, not real values), so the
RTL's ports carry exactly the integers ``GoldenMLP.trace`` shows: the input codes in, the
last layer's accumulator out. Per layer::

    acc = x @ W + b                                   (da4ml's constant-matrix-vector adders)
    y   = clip(round_half_even(acc / 2**s), 0, 2**bits - 1)   hidden layers only

da4ml rounds only by truncation or half up, so the half-to-even requantization is built
from truncation: ``round_half_even(a / 2**s) = floor((a + 2**(s-1) - 1 + odd) / 2**s)``
where ``odd = floor(a / 2**s) mod 2``. ReLU is implied by the clip at 0: rounding is
monotonic and maps 0 to 0, so clipping after it equals the golden model's
``max(acc, 0)`` before it.
"""

from decimal import Decimal

import numpy as np
from da4ml.trace import FixedVariable, FixedVariableArray, FixedVariableArrayInput, comb_trace
from da4ml.types import CombLogic

from uvhunt.quant.golden import GoldenMLP, IntegerLayer, shift_round_half_even


def trace_network(golden: GoldenMLP) -> CombLogic:
    """The network as one combinational adder graph, inputs and outputs in golden integers."""
    spec = golden.input_quant
    inputs = FixedVariableArrayInput(golden.sizes[0])
    x = inputs.quantize(k=int(spec.signed), i=spec.bits - int(spec.signed), f=0)
    for layer in golden.layers:
        acc = x @ layer.weight.astype(np.float64) + layer.bias.astype(np.float64)
        x = acc if layer.output_quant is None else requantize(acc, layer)
    return comb_trace(inputs, x, keep_dead_inputs=True)


def requantize(acc: FixedVariableArray, layer: IntegerLayer) -> FixedVariableArray:
    """``clip(round_half_even(acc / 2**shift), 0, high)`` in truncations and one addition."""
    shift, high = layer.shift, layer.output_quant.high
    scaled = acc * 2.0**-shift
    if shift > 0:
        lsb = 2.0**-shift
        odd = scaled.quantize(k=0, i=1, f=0)  # floor(acc / 2**shift) mod 2, in {0, 1}
        scaled = scaled + odd * lsb + (2 ** (shift - 1) - 1) * lsb
    bits = int(high).bit_length()
    if high != 2**bits - 1:
        raise ValueError(f"activation limit {high} is not 2**bits - 1; da4ml cannot clip there")
    out = scaled.quantize(k=0, i=bits, f=0, overflow_mode="SAT", round_mode="TRN")
    return _exact_constants(acc, out, layer)


def _exact_constants(
    acc: FixedVariableArray, out: FixedVariableArray, layer: IntegerLayer
) -> FixedVariableArray:
    """``out`` with each unit whose accumulator is a constant (all its weights zero, as
    pruning leaves them) set to the golden model's value of it. da4ml 0.6.0 folds a constant's
    unsigned wrap modulo 2**(i+1) instead of 2**i (31 wrapped to one unsigned bit gives 3), so
    the ``odd`` bit of a constant is wrong; units with inputs are not folded and are right."""
    units = acc._vars.ravel()  # da4ml has no public accessor for an array's variables
    constant = [j for j, v in enumerate(units) if v.low == v.high]
    if not constant:
        return out
    values = out._vars.ravel().copy()
    for j in constant:
        a = np.array([int(units[j].low)], np.int64)
        y = np.clip(
            shift_round_half_even(np.maximum(a, 0), layer.shift), 0, layer.output_quant.high
        )
        values[j] = FixedVariable.from_const(Decimal(int(y[0])), hwconf=values[j].hwconf, _factor=1)
    return FixedVariableArray(
        values.reshape(out._vars.shape), out.solver_options, hwconf=out.hwconf
    )
