"""Training: Adam, exponential learning-rate decay, binary cross-entropy, batch 128, early
stopping on the validation ROC AUC — first the float MLP, then its QAT twin fine-tuned from
the float weights. Deterministic for a seed at a given number of threads (seeded shuffles)."""

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from uvhunt._core.progress import ProgressFactory, no_progress
from uvhunt.quant.config import ModelConfig, TrainConfig
from uvhunt.quant.data import WindowSet
from uvhunt.quant.models import FloatMLP, QuantMLP
from uvhunt.quant.preprocess import float_inputs
from uvhunt.quant.resource_aware import Pruner, digit_cost


@dataclass
class Inputs:
    """A window set prepared for both models."""

    integer: np.ndarray
    """(N, inputs) int32: the QAT model's inputs."""
    real: np.ndarray
    """(N, inputs) float32: the float model's inputs (``float_inputs``)."""
    label: np.ndarray


def prepare(windows: WindowSet, config: ModelConfig) -> Inputs:
    p = config.preprocessing
    integer = p(windows.values, windows.units)
    return Inputs(
        integer,
        float_inputs(windows.values, windows.units, p, integer),
        windows.label.astype(np.float32),
    )


@dataclass
class TrainResult:
    float_model: FloatMLP
    quant_model: QuantMLP | None
    history: dict = field(default_factory=dict)
    teacher: object | None = None
    """The ``distillation.Teacher`` whose probabilities were among the targets, if any."""


def train(
    inputs: Inputs,
    config: ModelConfig,
    train_config: TrainConfig,
    progress: ProgressFactory | None = None,
    quantize: bool = True,
    targets: np.ndarray | None = None,
) -> TrainResult:
    """Train the float model, then (with ``quantize``) fine-tune the QAT twin from it (a
    progress bar each, in epochs); without, ``quant_model`` is None. ``targets`` (N,
    0…1, e.g. ``distillation.soft_targets``) replace the labels in the training loss; the
    validation split, its AUC and the class balance keep the labels."""
    progress = progress or no_progress
    torch.manual_seed(train_config.seed)
    rng = np.random.default_rng(train_config.seed)
    validation = _validation_mask(inputs.label, train_config.validation_fraction, rng)
    float_model = FloatMLP(config)
    with progress(train_config.max_epochs, "train float", "epoch") as bar:
        float_history = _fit(
            float_model,
            inputs.real,
            inputs.label,
            targets,
            validation,
            train_config,
            train_config.max_epochs,
            train_config.learning_rate,
            train_config.batch_size,
            bar.update,
        )
    if not quantize:
        return TrainResult(float_model.eval(), None, {"float": float_history})
    quant_model = QuantMLP(config)
    quant_model.load_float(float_model)
    quant_model.train()
    with torch.no_grad():  # let the activation quantizers see data before they are used
        quant_model(torch.from_numpy(inputs.integer[~validation][:4096].astype(np.float32)))
    prune_epochs = min(train_config.prune_epochs, train_config.qat_epochs)
    pruner = Pruner(quant_model, train_config.sparsity, prune_epochs)
    regularizer = None
    if train_config.resource_penalty > 0:
        with torch.no_grad():
            start = float(digit_cost(quant_model, config))

        def regularizer() -> torch.Tensor:
            cost = digit_cost(quant_model, config)
            return train_config.resource_penalty * cost / max(start, 1e-12)

    with progress(train_config.qat_epochs, "train qat", "epoch") as bar:
        quant_history = _fit(
            quant_model,
            inputs.integer.astype(np.float32),
            inputs.label,
            targets,
            validation,
            train_config,
            train_config.qat_epochs,
            train_config.learning_rate * train_config.qat_learning_rate_factor,
            train_config.qat_batch_size,
            bar.update,
            pruner if pruner.active else None,
            regularizer,
        )
    return TrainResult(
        float_model.eval(), quant_model.eval(), {"float": float_history, "qat": quant_history}
    )


def _validation_mask(label: np.ndarray, fraction: float, rng: np.random.Generator):
    """A stratified random validation split."""
    mask = np.zeros(label.size, bool)
    for value in (0, 1):
        index = np.flatnonzero(label == value)
        mask[rng.choice(index, max(1, int(round(fraction * index.size))), replace=False)] = True
    return mask


def _fit(
    model: nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    targets: np.ndarray | None,
    validation: np.ndarray,
    config: TrainConfig,
    epochs: int,
    learning_rate: float,
    batch_size: int,
    advance: Callable[[int], object],
    pruner: Pruner | None = None,
    regularizer: Callable[[], torch.Tensor] | None = None,
) -> dict:
    """Train with early stopping on the validation ROC AUC; the starting weights count as
    epoch 0, so fine-tuning never ends worse on the validation split than it began. With a
    ``pruner``, only epochs at its final sparsity count; ``regularizer()`` is added to each
    batch's loss, and the start does not count then either. The loss is taken against
    ``targets`` if given, else the labels ``y``."""
    goal = y if targets is None else np.asarray(targets, np.float32)
    x_train, y_train = torch.from_numpy(x[~validation]), torch.from_numpy(goal[~validation])
    x_val, y_val = torch.from_numpy(x[validation]), y[validation]
    positives = float(y[~validation].sum())
    pos_weight = torch.tensor((len(y_train) - positives) / max(positives, 1.0))
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    optimizer = torch.optim.Adam(model.parameter_groups(learning_rate))
    schedule = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=config.decay)
    generator = torch.Generator().manual_seed(config.seed)

    def validation_auc() -> float:
        model.eval()
        with torch.no_grad():
            return roc_auc_score(y_val, model(x_val).numpy())

    def counts(epoch: int) -> bool:
        """Whether the epoch's state may be kept: resource-aware training keeps only states
        it trained (at the final sparsity), never the unpruned, uncharged start."""
        if regularizer is not None and epoch == 0:
            return False
        return pruner is None or pruner.final(epoch)

    best, best_state, stale, history = -math.inf, None, 0, []
    if counts(0):
        best, best_state = validation_auc(), copy.deepcopy(model.state_dict())
    best_epoch = 0
    for epoch in range(1, epochs + 1):
        model.train()
        if pruner is not None:
            pruner.start_epoch(epoch)
        order = torch.randperm(len(y_train), generator=generator)
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(x_train[batch]), y_train[batch])
            if regularizer is not None:
                loss = loss + regularizer()
            loss.backward()
            optimizer.step()
            if pruner is not None:
                pruner.apply()
        schedule.step()
        history.append(validation_auc())
        advance(1)
        if not counts(epoch):
            continue
        if history[-1] > best:
            best, best_state, best_epoch, stale = (
                history[-1],
                copy.deepcopy(model.state_dict()),
                epoch,
                0,
            )
        else:
            stale += 1
            if stale >= config.patience:
                break
    model.load_state_dict(best_state)
    return {"validation_auc": history, "best_epoch": best_epoch, "best_validation_auc": best}


def scores(model: nn.Module, x: np.ndarray, batch: int = 65536) -> np.ndarray:
    """Model logits (float64) for inputs ``x`` (ints for the QAT model, floats for float)."""
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(x), batch):
            chunk = torch.from_numpy(np.asarray(x[start : start + batch], dtype=np.float32))
            out.append(model(chunk).numpy().astype(np.float64))
    return np.concatenate(out) if out else np.zeros(0)


def float_logits(model: nn.Module, config: ModelConfig, windows: np.ndarray, units: str):
    """The float model's logits (float64) on raw ``windows`` in ``units``."""
    return scores(model, float_inputs(windows, units, config.preprocessing))
