"""The meteor MLP: a float model (plain torch) and its brevitas QAT twin, same architecture.

Both take the preprocessed window (``quant.preprocess``): the float model the real-valued
residual ``(raw - baseline) / 2**shift``, the QAT model its integer, saturated version.
Both end in one logit (meteor if large).
"""

import torch
from brevitas import nn as qnn
from torch import nn

from uvhunt.quant.config import ModelConfig
from uvhunt.quant.recipes import bias_quant, input_quant, relu_quant, weight_quant


class FloatMLP(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        sizes = [config.inputs, *config.hidden]
        layers: list[nn.Module] = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        layers.append(nn.Linear(sizes[-1], 1))
        self.net = nn.Sequential(*layers)
        self.input_scale = 2.0 ** -(config.preprocessing.bits - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * self.input_scale).squeeze(-1)

    def parameter_groups(self, learning_rate: float) -> list[dict]:
        """The optimizer's parameter groups: every parameter at ``learning_rate``."""
        return [{"params": list(self.parameters()), "lr": learning_rate}]


class QuantMLP(nn.Module):
    """Brevitas twin: integer inputs (scale 1), power-of-two weights, biases at the
    accumulator scale, power-of-two ReLU outputs; the logit is the last accumulator."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        b = bias_quant(config.bias_bits)
        a = relu_quant(config.activation_bits)
        layers: list[nn.Module] = [
            qnn.QuantIdentity(
                act_quant=input_quant(config.preprocessing.bits), return_quant_tensor=True
            )
        ]
        sizes = [config.inputs, *config.hidden]
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            w = weight_quant(config.weight_bits_of(i))
            layers += [
                qnn.QuantLinear(
                    n_in, n_out, bias=True, weight_quant=w, bias_quant=b, return_quant_tensor=True
                ),
                qnn.QuantReLU(act_quant=a, return_quant_tensor=True),
            ]
        layers.append(
            qnn.QuantLinear(
                sizes[-1],
                1,
                bias=True,
                weight_quant=weight_quant(config.weight_bits_of(len(config.hidden))),
                bias_quant=b,
                return_quant_tensor=False,
            )
        )
        self.net = nn.Sequential(*layers)
        self.input_scale = 2.0 ** -(config.preprocessing.bits - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)

    def parameter_groups(self, learning_rate: float) -> list[dict]:
        """The optimizer's parameter groups: the first layer's weights at ``learning_rate`` ×
        ``input_scale``, every other parameter at ``learning_rate``. The first weights are the
        float model's × ``input_scale`` (``load_float``), and an Adam step does not scale with
        the gradient: at the full rate they would move 2**(bits-1) times as far, relative to
        their size, as the float training moved them (measured on one fold: the fine-tuning
        then never beat its quantized start)."""
        first = next(m for m in self.net if isinstance(m, qnn.QuantLinear)).weight
        rest = [p for p in self.parameters() if p is not first]
        return [
            {"params": [first], "lr": learning_rate * self.input_scale},
            {"params": rest, "lr": learning_rate},
        ]

    def load_float(self, model: FloatMLP) -> None:
        """Start from trained float weights (the float model scales its inputs by
        ``input_scale``; the QAT model takes integers, so its first weights absorb that)."""
        float_linear = [m for m in model.net if isinstance(m, nn.Linear)]
        quant_linear = [m for m in self.net if isinstance(m, qnn.QuantLinear)]
        with torch.no_grad():
            for i, (f, q) in enumerate(zip(float_linear, quant_linear, strict=True)):
                q.weight.copy_(f.weight * (self.input_scale if i == 0 else 1.0))
                q.bias.copy_(f.bias)
