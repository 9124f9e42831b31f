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

With the peak input (``Preprocessing.peak_input``) the graph takes the window's codes only and
computes the network's last input itself, as ``Preprocessing.network_inputs`` defines it::

    S    = max over i of x[i] + … + x[i+4]          (shared pair and quad sums, a max tree)
    peak = floor(S / 5) = floor((S - lo) · m / 2**k) + lo / 5,   lo = 5 · (-2**(bits-1))

The offset makes the dividend non-negative; ``m = ceil(2**k / 5)`` with the smallest ``k`` at
which that product floors exactly for every sum the codes can make (``peak_division``;
8-bit codes: 1639 / 2**13).
"""

from decimal import Decimal

import numpy as np
from da4ml.trace import FixedVariable, FixedVariableArray, FixedVariableArrayInput, comb_trace
from da4ml.types import CombLogic

from uvhunt.quant.golden import GoldenMLP, IntegerLayer, shift_round_half_even
from uvhunt.quant.preprocess import PEAK_FRAMES


def trace_network(golden: GoldenMLP, peak_input: bool = False) -> CombLogic:
    """The network as one combinational adder graph, inputs and outputs in golden integers.
    With ``peak_input`` the graph's inputs are the window's codes (the network's inputs but
    the last), and the last input, ``⌊S/5⌋``, is computed in the graph."""
    spec = golden.input_quant
    window = golden.sizes[0] - int(peak_input)
    if peak_input and (window < PEAK_FRAMES or not spec.signed or spec.exponent != 0):
        raise ValueError(
            "the peak input needs signed integer input codes and at least "
            f"{PEAK_FRAMES} window frames"
        )
    inputs = FixedVariableArrayInput(window)
    x = inputs.quantize(k=int(spec.signed), i=spec.bits - int(spec.signed), f=0)
    if peak_input:
        x = _append(x, peak_of(x, spec.bits))
    for layer in golden.layers:
        acc = x @ layer.weight.astype(np.float64) + layer.bias.astype(np.float64)
        x = acc if layer.output_quant is None else requantize(acc, layer)
    return comb_trace(inputs, x, keep_dead_inputs=True)


def peak_of(x: FixedVariableArray, bits: int) -> FixedVariable:
    """``⌊S/5⌋``, S the largest sum of 5 consecutive codes of ``x`` (signed ``bits``-bit)."""
    n = len(x)
    pairs = x[: n - 1] + x[1:]  # x[i] + x[i+1]
    quads = pairs[: n - 3] + pairs[2 : n - 1]  # x[i] + … + x[i+3]
    sums = quads[: n - 4] + x[4:]  # x[i] + … + x[i+4]
    largest = np.max(sums)
    lo = PEAK_FRAMES * -(2 ** (bits - 1))
    multiplier, shift = peak_division(bits)
    scaled = (largest - lo) * (multiplier * 2.0**-shift)
    return scaled.quantize(k=0, i=bits + 1, f=0, round_mode="TRN") + lo // PEAK_FRAMES


def peak_division(bits: int) -> tuple[int, int]:
    """``(m, k)``: ``(n · m) >> k == n // 5`` for every offset sum n of ``bits``-bit codes
    (0 … 5 · (2**bits - 1)), the smallest such ``k``; checked on all of them."""
    n = np.arange(PEAK_FRAMES * (2**bits - 1) + 1, dtype=np.int64)
    for shift in range(1, 40):
        multiplier = -(-(2**shift) // PEAK_FRAMES)
        if np.array_equal((n * multiplier) >> shift, n // PEAK_FRAMES):
            return multiplier, shift
    raise ValueError(f"no multiplier divides {bits}-bit peak sums by {PEAK_FRAMES}")


def _append(x: FixedVariableArray, last: FixedVariable) -> FixedVariableArray:
    variables = np.array([*x._vars.ravel(), last], dtype=object)  # no public concatenation
    return FixedVariableArray(variables, x.solver_options, hwconf=x.hwconf)


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
