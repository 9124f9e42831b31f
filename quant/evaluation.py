"""Leave-one-session-out evaluation: for every session, train on the others and score the
held-out one with the float MLP, the QAT MLP and the baselines.

Test set of a session: all its meteor windows and ``test_negatives`` not-meteor windows
drawn uniformly (ROC AUC and efficiencies at fixed false-positive rates come from these),
plus every other window holding meteor light (used only for efficiency versus magnitude).
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from uvhunt._core.errors import UvhuntError
from uvhunt._core.processes import in_processes
from uvhunt._core.progress import ProgressFactory, no_progress
from uvhunt.euso.window_store import open_window_dataset
from uvhunt.quant.baselines import baseline_scores, fit_baselines
from uvhunt.quant.config import ModelConfig, TrainConfig
from uvhunt.quant.data import SessionSampler
from uvhunt.quant.hard_negatives import train_mined
from uvhunt.quant.metrics import (
    FALSE_POSITIVE_RATES,
    auc,
    efficiency_at,
    efficiency_by_magnitude,
    roc,
    threshold_at,
)
from uvhunt.quant.models import QuantMLP
from uvhunt.quant.training import prepare, scores

DEFAULT_TEST_NEGATIVES = 40_000
"""Not-meteor windows drawn uniformly from each held-out session."""
MIN_TEST_NEGATIVES = 1000
"""Not-meteor windows per held-out session, at least: at 1e-4 false positives per window,
fewer cannot give a threshold."""


@dataclass
class FoldResult:
    session: str
    meteors: int
    negatives: int
    auc: dict[str, float]
    efficiency: dict[str, dict[float, float]]
    """method: {false-positive rate: efficiency}."""
    magnitude: dict[str, list[dict]]
    """method: rows of ``efficiency_by_magnitude`` at the 1e-3 threshold."""
    roc: dict[str, tuple[np.ndarray, np.ndarray]]
    baseline_settings: dict[str, dict]
    extra: dict | None = None
    """What the fold hook returned (``evaluate(fold_hook=...)``), else None."""


@dataclass
class FoldModels:
    """What one fold trained, handed to a fold hook for figures beyond the windows' (the
    event level of ``uvhunt.detection.event_evaluation``)."""

    held_out: int
    """Data-set source index of the held-out session."""
    training_sessions: list[int]
    """Source indices the models were trained on."""
    quant_model: QuantMLP
    baselines: dict
    """``fit_baselines``' result: {name: (model, feature set, setting, validation AUC)}."""
    test_integer: np.ndarray
    """(N, length) int32: the QAT model's inputs of the held-out test windows."""
    test_qat_scores: np.ndarray
    """The QAT model's logits (float64) on them."""


FoldHook = Callable[[FoldModels], dict]
"""Called once per fold, in the fold's worker process; returns JSON-able figures."""


def evaluate_fold(
    folder,
    held_out: int,
    model_config: ModelConfig,
    train_config: TrainConfig,
    test_negatives: int,
    hook: FoldHook | None = None,
) -> FoldResult:
    """Train on every session but ``held_out`` and score ``held_out`` (one process); then
    ``hook``, if given, on the fold's models (its result in ``FoldResult.extra``). One thread
    for torch, BLAS and OpenMP (KNN's searches): the folds already fill the cores, and threads
    that wait for a descheduled partner spin."""
    torch.set_num_threads(1)
    with threadpool_limits(1):
        return _evaluate_fold(folder, held_out, model_config, train_config, test_negatives, hook)


def _evaluate_fold(folder, held_out, model_config, train_config, test_negatives, hook):
    sampler = SessionSampler(open_window_dataset(folder))
    rng = np.random.default_rng([train_config.seed, held_out])
    others = [s for s in sampler.labelled_sessions if s != held_out]
    result, training = train_mined(sampler, others, model_config, train_config, rng)
    test = sampler.draw([held_out], test_negatives, rng, all_meteor_light=True)
    train_inputs, test_inputs = prepare(training, model_config), prepare(test, model_config)
    method_scores = {
        "float_mlp": scores(result.float_model, test_inputs.real),
        "qat_mlp": scores(result.quant_model, test_inputs.integer),
    }
    # the baselines see the window's residual only (its frames: no peak input); the
    # distillation's teacher is one of them, fitted on the same windows: taken as it is
    frames = model_config.length
    teacher = result.teacher
    fitted = fit_baselines(
        train_inputs.real[:, :frames],
        training.label,
        training.session,
        train_config.seed,
        fitted={teacher.key: teacher.fitted} if teacher is not None else None,
    )
    method_scores.update(baseline_scores(fitted, test_inputs.real[:, :frames]))
    sample, label = test.in_sample, test.label
    fold = FoldResult(
        sampler.names[held_out],
        int((label[sample] == 1).sum()),
        int((label[sample] == 0).sum()),
        {},
        {},
        {},
        {},
        {k: v[2] for k, v in fitted.items()},
    )
    for method, score in method_scores.items():
        fold.auc[method] = auc(label[sample], score[sample])
        fold.efficiency[method] = {
            f: efficiency_at(label[sample], score[sample], f) for f in FALSE_POSITIVE_RATES
        }
        threshold = threshold_at(label[sample], score[sample], FALSE_POSITIVE_RATES[0])
        fold.magnitude[method] = efficiency_by_magnitude(
            test.meteor_event, test.meteor_magnitude, score, threshold
        )
        fold.roc[method] = roc(label[sample], score[sample])
    if hook is not None:
        fold.extra = hook(
            FoldModels(
                held_out,
                others,
                result.quant_model,
                fitted,
                test_inputs.integer,
                method_scores["qat_mlp"],
            )
        )
    return fold


def evaluate(
    folder,
    model_config: ModelConfig,
    train_config: TrainConfig,
    test_negatives: int = DEFAULT_TEST_NEGATIVES,
    workers: int = 2,
    progress: ProgressFactory | None = None,
    fold_hook: FoldHook | None = None,
    spare_worker: Callable[[], bool] | None = None,
) -> list[FoldResult]:
    """Every session that holds meteors, held out in turn; folds run in ``workers``
    processes, one more while ``spare_worker()`` is true (the numbers do not depend on how
    many). Progress in sessions. ``fold_hook`` (picklable) runs at the end of each fold on
    its models."""
    sampler = SessionSampler(open_window_dataset(folder))
    sessions = sampler.sessions
    if len(sessions) < 2:
        raise UvhuntError(
            f"only {len(sessions)} session(s) hold meteor windows; "
            "leave-one-session-out needs two or more",
            path=folder,
            fix="simulate more or longer sessions, or a higher meteor rate",
            setting="rate_per_hour",
        )
    folder = Path(folder).resolve()  # the worker processes may run in another folder
    jobs = [
        partial(evaluate_fold, folder, s, model_config, train_config, test_negatives, fold_hook)
        for s in sessions
    ]
    with (progress or no_progress)(len(sessions), "evaluate", "session") as bar:
        return in_processes(jobs, workers, spare_worker, lambda: bar.update(1))


def methods(folds: list[FoldResult]) -> list[str]:
    return list(folds[0].auc)


def mean_auc(folds: list[FoldResult], method: str) -> float:
    return float(np.mean([f.auc[method] for f in folds]))


def quantization_loss(folds: list[FoldResult]) -> list[float]:
    """Float AUC minus QAT AUC, per held-out session."""
    return [f.auc["float_mlp"] - f.auc["qat_mlp"] for f in folds]
