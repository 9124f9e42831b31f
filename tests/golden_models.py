"""Golden models built from random integers, for tests that need no training."""

import numpy as np

from uvhunt.quant.golden import GoldenMLP, IntegerLayer
from uvhunt.quant.qonnx_io import QuantSpec


def random_golden(sizes, weight_bits, activation_bits, shifts, seed, input_bits=8):
    """A golden model with Laplace-like integer weights (as trained ones look)."""
    rng = np.random.default_rng(seed)
    w = QuantSpec(-weight_bits, weight_bits, True, True)
    layers, e_in = [], 0
    for index, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        last = index == len(sizes) - 2
        out = (
            None
            if last
            else QuantSpec(e_in - weight_bits + shifts[index], activation_bits, False, False)
        )
        scale = 2 ** (weight_bits - 2)
        weight = np.clip(np.round(rng.laplace(0, scale / 2, (a, b))), w.low, w.high)
        bias = rng.integers(-(2**12), 2**12, b)
        layers.append(
            IntegerLayer(
                weight.astype(np.int64),
                bias,
                w,
                QuantSpec(e_in - weight_bits, 16, True, False),
                out,
            )
        )
        if out is not None:
            e_in = out.exponent
    return GoldenMLP(QuantSpec(0, input_bits, True, False), layers).compile()
