"""Quantizer recipes, defined once and named for what they are (bits, role, scale type).

Every scale is a power of two, so hardware only shifts. Rounding is round-half-to-even
(brevitas' ``ROUND``, QONNX ``ROUND``, numpy ``np.round``, hls4ml ``AP_RND_CONV``), so every
later stage can reproduce it exactly.
"""

from brevitas.core.scaling import ScalingImplType
from brevitas.quant import (
    Int8ActPerTensorFixedPoint,
    Int8WeightPerTensorFixedPoint,
    IntBias,
    Uint8ActPerTensorFixedPoint,
)


class IntInputUnitScale(Int8ActPerTensorFixedPoint):
    """Signed integer inputs with a constant scale of 1: the preprocessed integers pass as
    they are (set ``bit_width``; ``scaling_const`` = 2**(bit_width-1))."""

    scaling_impl_type = ScalingImplType.CONST
    scaling_const = 128.0
    max_val = 128.0
    min_val = -128.0


class IntWeightPerTensorPowerOfTwo(Int8WeightPerTensorFixedPoint):
    """Signed narrow-range weights, one power-of-two scale per layer from the largest weight."""


class IntBiasAccumulatorScale(IntBias):
    """Signed biases at the accumulator's scale (input scale × weight scale)."""


class UintReluPowerOfTwo(Uint8ActPerTensorFixedPoint):
    """Unsigned ReLU outputs with one learned power-of-two scale per layer."""


def input_quant(bits: int) -> type:
    scale_const = float(2 ** (bits - 1))
    return type(
        f"Int{bits}InputUnitScale",
        (IntInputUnitScale,),
        {
            "bit_width": bits,
            "scaling_const": scale_const,
            "max_val": scale_const,
            "min_val": -scale_const,
        },
    )


def weight_quant(bits: int) -> type:
    return type(
        f"Int{bits}WeightPerTensorPowerOfTwo", (IntWeightPerTensorPowerOfTwo,), {"bit_width": bits}
    )


def bias_quant(bits: int) -> type:
    return type(f"Int{bits}BiasAccumulatorScale", (IntBiasAccumulatorScale,), {"bit_width": bits})


def relu_quant(bits: int) -> type:
    return type(f"Uint{bits}ReluPowerOfTwo", (UintReluPowerOfTwo,), {"bit_width": bits})
