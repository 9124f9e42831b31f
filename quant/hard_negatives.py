"""Training with mined hard negatives: train the float model once, score every not-meteor
window of the training sessions with it, add the ``mined_negatives`` that score highest (the
windows the trigger would fire on), and train again from scratch on the larger set, float
and QAT twin (the first round is float only: its QAT twin would rank the windows the same up
to quantization, at three times the cost). The final round's targets are distilled from a
teacher fitted on its windows (``quant.distillation``); the first round's are the labels.

A trigger fires on the highest-scoring windows of hours of data, the tail of the
not-meteor distribution that uniform draws barely sample; mining puts that tail into training.
Measured on four fresh sessions (on top of the confuser negatives, mining ranked by the first
round's QAT model): meteors caught at 10 / 30 / 100 / 300 false events per hour went from
7 / 22 / 38 / 49 to 29 / 32 / 43 / 68 of 672; ``benchmarks/bench_trigger.py`` measures the
recipe as it is.
"""

import numpy as np

from uvhunt._core.progress import ProgressFactory
from uvhunt.quant.config import ModelConfig, TrainConfig
from uvhunt.quant.data import SessionSampler, WindowSet
from uvhunt.quant.distillation import fit_teacher, soft_targets
from uvhunt.quant.training import TrainResult, float_logits, prepare, train

SCORE_BLOCK = 65_536
"""Windows scored at once while mining (bounds memory)."""


def hardest_negatives(
    sampler: SessionSampler,
    sessions: list[int],
    result: TrainResult,
    config: ModelConfig,
    count: int,
    exclude: np.ndarray,
) -> np.ndarray:
    """Rows of the ``count`` not-meteor windows of ``sessions`` (``exclude`` left out) that the
    float model of ``result`` scores highest, in row order (ties broken by row)."""
    candidates = np.setdiff1d(sampler.negatives_of(sessions), exclude)
    if not count or not candidates.size:
        return candidates[:0]
    logits = np.concatenate(
        [
            float_logits(
                result.float_model,
                config,
                np.asarray(sampler.dataset.values[block], np.float32),
                sampler.units,
            )
            for block in np.array_split(candidates, -(-candidates.size // SCORE_BLOCK))
        ]
    )
    order = np.lexsort((candidates, -logits))  # highest first; equal logits by row
    return np.sort(candidates[order[: min(count, candidates.size)]])


def train_mined(
    sampler: SessionSampler,
    sessions: list[int],
    model: ModelConfig,
    training: TrainConfig,
    rng: np.random.Generator,
    progress: ProgressFactory | None = None,
) -> tuple[TrainResult, WindowSet]:
    """Train on ``sessions`` as ``training`` says (mining when ``mined_negatives`` > 0); returns
    the final models and the windows they trained on."""
    data = sampler.training_set(sessions, training, rng)
    if training.mined_negatives:
        first = train(prepare(data, model), model, training, progress, quantize=False)
        mined = hardest_negatives(
            sampler, sessions, first, model, training.mined_negatives, data.index
        )
        data = concatenate(data, sampler.take(mined, np.zeros(mined.size, bool)))
    return train_distilled(data, model, training, progress), data


def train_distilled(
    data: WindowSet, model: ModelConfig, training: TrainConfig, progress: ProgressFactory | None
) -> TrainResult:
    """Float and QAT training on ``data``, the targets distilled from the teacher fitted on
    the same windows when ``training.distillation`` > 0 (``quant.distillation``)."""
    inputs = prepare(data, model)
    if not training.distillation:
        return train(inputs, model, training, progress)
    teacher = fit_teacher(inputs.real[:, : model.length], data.label, data.session, training.seed)
    targets = soft_targets(inputs.label, teacher.probability, training.distillation)
    result = train(inputs, model, training, progress, targets=targets)
    result.teacher = teacher
    return result


def concatenate(first: WindowSet, second: WindowSet) -> WindowSet:
    """Two window sets of one data set as one."""
    return WindowSet(
        *(
            first.units if name == "units" else np.concatenate([getattr(first, name), value])
            for name, value in ((n, getattr(second, n)) for n in WindowSet.__dataclass_fields__)
        )
    )
