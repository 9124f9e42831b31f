"""Resource-aware QAT: magnitude pruning on a schedule, and a loss term that charges what the
unrolled adder graph costs.

**Pruning.** During QAT fine-tuning, each layer's smallest-magnitude weights are set to zero
and kept there (re-zeroed after every optimizer step); the pruned fraction of each layer
rises from 0 to ``sparsity`` over ``prune_epochs`` epochs as 1 − (1 − t)³ (Zhu & Gupta's
schedule: most of it early, while the model can still adapt). A zero weight is a zero integer
in QONNX and the golden model, so pruning adds no new arithmetic to the chain: da4ml and the
trigger core simply have fewer terms.

**The resource penalty.** da4ml builds each product of a constant weight from shift-adds of
its non-zero signed digits, each digit one adder as wide as the input; a pruned weight costs
nothing. The differentiable surrogate is, per layer, input bits × Σ log2(1 + |w| / step),
about the bits each weight needs (HGQ's EBOPs charge input bits × weight bits the same way).
The loss adds ``penalty`` × that sum ÷ its value at the start of fine-tuning, so that
``penalty`` is a fraction of the cross-entropy's scale, whatever the network's size.
"""

import math

import torch
from brevitas import nn as qnn

from uvhunt.quant.config import ModelConfig


def weight_layers(model) -> list[qnn.QuantLinear]:
    return [m for m in model.net if isinstance(m, qnn.QuantLinear)]


def input_bits(config: ModelConfig) -> list[int]:
    """Bits of each weight layer's inputs: the network's integer inputs, then the ReLUs'."""
    return [config.preprocessing.bits] + [config.activation_bits] * len(config.hidden)


def sparsity_at(epoch: int, sparsity: float, prune_epochs: int) -> float:
    """The pruned fraction after ``epoch`` (1-based) fine-tuning epochs."""
    if sparsity <= 0:
        return 0.0
    t = min(1.0, epoch / max(1, prune_epochs))
    return sparsity * (1.0 - (1.0 - t) ** 3)


class Pruner:
    """Each layer's weight mask, updated per epoch and applied after every step."""

    def __init__(self, model, sparsity: float, prune_epochs: int):
        self.layers = weight_layers(model)
        self.sparsity = sparsity
        self.prune_epochs = prune_epochs
        self.masks = [torch.ones_like(layer.weight, dtype=torch.bool) for layer in self.layers]
        self.fraction = 0.0

    @property
    def active(self) -> bool:
        return self.sparsity > 0

    def final(self, epoch: int) -> bool:
        """Whether the final sparsity holds from ``epoch`` on."""
        return epoch >= self.prune_epochs or not self.active

    def start_epoch(self, epoch: int) -> None:
        """Masks for ``epoch`` (1-based): each layer's smallest weights (the kept ones' order:
        by magnitude, ties by position) pruned to the schedule's fraction."""
        if not self.active:
            return
        self.fraction = sparsity_at(epoch, self.sparsity, self.prune_epochs)
        for i, layer in enumerate(self.layers):
            w = layer.weight.detach().abs().flatten()
            count = math.floor(self.fraction * w.numel())
            count = min(count, w.numel() - 1)  # a layer keeps at least one weight
            mask = torch.ones_like(w, dtype=torch.bool)
            if count > 0:
                order = torch.sort(w, stable=True).indices
                mask[order[:count]] = False
            self.masks[i] = mask.view_as(layer.weight) & self.masks[i]
        self.apply()

    def apply(self) -> None:
        if not self.active:
            return
        with torch.no_grad():
            for layer, mask in zip(self.layers, self.masks, strict=True):
                layer.weight.mul_(mask)


def digit_cost(model, config: ModelConfig) -> torch.Tensor:
    """The adder-graph surrogate: Σ over layers of input bits × Σ log2(1 + |w| / step), the
    step being the layer's largest weight over its largest integer (2**(bits−1) − 1), as the
    quantizer's scale follows the largest weight. The cost is blind to the layer's overall
    scale (shrinking every weight alike saves nothing once the scale follows), so it can only
    be lowered by making weights small against the largest: fewer digits, more zeros."""
    total = torch.zeros(())
    layers = weight_layers(model)
    for i, (layer, bits) in enumerate(zip(layers, input_bits(config), strict=True)):
        w = layer.weight.abs()
        step = w.max().clamp_min(1e-12) / (2 ** (config.weight_bits_of(i) - 1) - 1)
        total = total + bits * torch.log2(1.0 + w / step).sum()
    return total


def quantized_cost(model, config: ModelConfig) -> dict:
    """What the exported weights cost, counted exactly: non-zero weights, their non-zero
    signed digits (canonical signed digits, as da4ml decomposes constants) and the same
    digits times their layer's input bits."""
    weights = digits = weighted = 0
    for layer, bits in zip(weight_layers(model), input_bits(config), strict=True):
        q = layer.quant_weight()
        integers = torch.round(q.value / q.scale).to(torch.int64).flatten().tolist()
        n = [csd_digits(v) for v in integers]
        weights += sum(1 for v in integers if v)
        digits += sum(n)
        weighted += bits * sum(n)
    return {"nonzero_weights": weights, "digits": digits, "digit_bits": weighted}


def csd_digits(value: int) -> int:
    """Non-zero digits of ``value`` in canonical signed-digit form (fewest ±1 digits)."""
    value, count = abs(int(value)), 0
    while value:
        if value & 1:
            count += 1
            value -= 2 - (value & 3)  # …01 → subtract 1, …11 → add 1
        value >>= 1
    return count
