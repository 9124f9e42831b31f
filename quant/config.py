"""The model and training configuration: one validated object, saved beside every artifact."""

import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from uvhunt.quant.preprocess import Preprocessing

ACCUMULATOR_LIMIT_BITS = 24
"""Every accumulator must stay below 2**24 in magnitude, so float32 stages (brevitas, QONNX)
compute it exactly."""


@dataclass(frozen=True)
class ModelConfig:
    """Architecture and bit widths of the meteor MLP (48 inputs, or 49 with the
    preprocessing's peak input → hidden … → one logit)."""

    length: int = 48
    """Frames per window (the network's inputs, and the peak input if ``inputs`` counts it)."""
    hidden: tuple[int, ...] = (64, 32)
    """Units of each hidden layer."""
    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    weight_bits: int = 5
    """Bits of the signed weights of every layer (unless ``layer_weight_bits`` says)."""
    bias_bits: int = 16
    activation_bits: int = 8
    layer_weight_bits: tuple[int, ...] = ()
    """Bits of each layer's weights (hidden layers, then the output layer), or () for
    ``weight_bits`` everywhere."""

    @property
    def inputs(self) -> int:
        """Network inputs: the window's frames, and the peak input if the preprocessing
        gives it."""
        return self.preprocessing.inputs(self.length)

    @property
    def layers(self) -> int:
        """Weight layers: the hidden ones and the output."""
        return len(self.hidden) + 1

    def weight_bits_of(self, layer: int) -> int:
        """Bits of layer ``layer``'s weights (0 = the first hidden layer)."""
        return self.layer_weight_bits[layer] if self.layer_weight_bits else self.weight_bits

    def validate(self) -> "ModelConfig":
        self.preprocessing.validate()
        if self.length < 2:
            raise ValueError(f"length must be >= 2 frames (got {self.length})")
        if not self.hidden or any(int(h) < 1 for h in self.hidden):
            raise ValueError(f"hidden sizes must be positive integers (got {list(self.hidden)})")
        for name, low, high in (
            ("weight_bits", 2, 16),
            ("bias_bits", 4, 24),
            ("activation_bits", 2, 16),
        ):
            if not low <= getattr(self, name) <= high:
                raise ValueError(f"{name} must be {low}…{high} (got {getattr(self, name)})")
        if self.layer_weight_bits and (
            len(self.layer_weight_bits) != self.layers
            or any(not 2 <= int(b) <= 16 for b in self.layer_weight_bits)
        ):
            raise ValueError(
                f"layer_weight_bits must give 2…16 bits for each of the {self.layers} weight "
                f"layers (got {list(self.layer_weight_bits)})"
            )
        widths = [self.preprocessing.bits - 1] + [self.activation_bits] * len(self.hidden)
        fan_in = [self.inputs, *self.hidden]
        for layer, (bits, n) in enumerate(zip(widths, fan_in, strict=True)):
            w = self.weight_bits_of(layer)
            bound = (2**bits) * (2 ** (w - 1)) * n + 2 ** (self.bias_bits - 1)
            if bound >= 2**ACCUMULATOR_LIMIT_BITS:
                raise ValueError(
                    f"layer {layer} accumulator could reach {bound:,} >= 2**24: use fewer bits"
                )
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        data = dict(data)
        data["hidden"] = tuple(data["hidden"])
        data["layer_weight_bits"] = tuple(data.get("layer_weight_bits", ()))
        # configs written before history_bits existed used the raw-history form
        data["preprocessing"] = Preprocessing(**{"history_bits": 0, **data["preprocessing"]})
        return cls(**data)


@dataclass(frozen=True)
class TrainConfig:
    """Training as in the seed study: Adam, exponential learning-rate decay, binary
    cross-entropy, batch 128; early stopping on a validation split."""

    learning_rate: float = 2e-3
    decay: float = 0.95
    """Learning rate factor per epoch."""
    batch_size: int = 128
    max_epochs: int = 40
    qat_batch_size: int = 512
    """Windows per batch of the QAT fine-tuning (brevitas costs about 6 ms a batch on one
    core, nearly whatever its size; the choice: docs/quantization.md, "The first layer's
    rate")."""
    qat_epochs: int = 15
    """Epochs of quantization-aware fine-tuning, starting from the float weights."""
    qat_learning_rate_factor: float = 0.6
    """QAT fine-tuning runs at this fraction of the float model's learning rate, the first
    layer's weights at a further ``input_scale`` (``QuantMLP.parameter_groups``; the settings
    measured: docs/quantization.md, "The first layer's rate")."""
    patience: int = 6
    """Epochs without a better validation ROC AUC before stopping."""
    validation_fraction: float = 0.2
    negatives: int = 15_000
    """Not-meteor windows drawn (uniformly) from the training sessions; all meteors are used."""
    confuser_negatives: int = 20_000
    """Hard negatives drawn on top: not-meteor windows where a city or ship light, lightning,
    an ELVE or a hot pixel shows (uniformly among them). At a few false events per hour the
    trigger's false events are such lights, which uniform draws hold too few of (4%)."""
    mined_negatives: int = 20_000
    """Hard negatives mined after a first training (``hard_negatives``): the not-meteor windows
    of the training sessions a first float training scores highest; the float model and its
    QAT twin are then trained again from scratch with them. 0: one training, no mining."""
    sparsity: float = 0.5
    """Resource-aware QAT: fraction of each layer's weights pruned (smallest magnitude first)
    by the end of ``prune_epochs`` fine-tuning epochs (``quant.resource_aware``). Half: as
    accurate as unpruned, with 30% fewer non-zero weight digits for the unrolled design (the
    settings measured: docs/quantization.md, "Pruning the default"); 0 prunes nothing."""
    prune_epochs: int = 5
    """QAT epochs over which the pruned fraction rises to ``sparsity`` (all of them, if there
    are fewer)."""
    resource_penalty: float = 0.0
    """Resource-aware QAT: weight of the adder-graph cost surrogate in the QAT loss, as a
    fraction of its value when fine-tuning starts."""
    distillation: float = 0.5
    """Weight of the teacher's meteor probability in each training window's target, the
    label's the rest (``quant.distillation``: XGBoost on the window's five features, fitted
    on the same training windows); 0: the labels alone (the measurements:
    docs/quantization.md, "The window AUC: the best baseline distilled")."""
    seed: int = 0

    def validate(self) -> "TrainConfig":
        if not 0 < self.learning_rate < 1 or not 0 < self.decay <= 1:
            raise ValueError("learning_rate must be in (0, 1) and decay in (0, 1]")
        if not 0 < self.qat_learning_rate_factor <= 1:
            raise ValueError("qat_learning_rate_factor must be in (0, 1]")
        for name in ("confuser_negatives", "mined_negatives"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0 (got {getattr(self, name)})")
        for name in (
            "batch_size",
            "qat_batch_size",
            "max_epochs",
            "qat_epochs",
            "patience",
            "negatives",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1 (got {getattr(self, name)})")
        if not 0 < self.validation_fraction < 0.5:
            raise ValueError("validation_fraction must be in (0, 0.5)")
        if self.seed < 0:
            raise ValueError("seed must be >= 0")
        if not 0 <= self.sparsity < 1:
            raise ValueError(f"sparsity must be in [0, 1) (got {self.sparsity})")
        if self.prune_epochs < 1:
            raise ValueError(f"prune_epochs must be >= 1 (got {self.prune_epochs})")
        if not 0 <= self.distillation <= 1:
            raise ValueError(f"distillation must be in [0, 1] (got {self.distillation})")
        if not self.resource_penalty >= 0:
            raise ValueError(f"resource_penalty must be >= 0 (got {self.resource_penalty})")
        return self

    def to_dict(self) -> dict:
        return asdict(self)


def load_configs(path: Path) -> tuple[ModelConfig, TrainConfig]:
    data = json.loads(Path(path).read_text())
    model = ModelConfig.from_dict(data["model"])
    # models saved before these settings existed were trained without them
    saved = {"confuser_negatives": 0, "mined_negatives": 0, "distillation": 0.0, **data["train"]}
    train = TrainConfig(**{f.name: saved[f.name] for f in fields(TrainConfig) if f.name in saved})
    return model, train


__all__ = ["ModelConfig", "TrainConfig", "Preprocessing", "load_configs", "replace"]
