"""Knowledge distillation: the MLP learns from the best classical baseline as well as from
the labels.

XGBoost on the seed study's five features of the window (``quant.features``) ranks windows
better than the MLP trained on the labels alone: over the nine held-out sessions of the
default run, 0.9397 against 0.9335 mean window ROC AUC. Each training window's target becomes
``weight`` × the teacher's meteor probability + (1 − ``weight``) × its label, so the network
is also taught how sure the teacher is. The teacher is searched and fitted on the training
windows only, exactly as ``uvhunt evaluate`` fits its ``xgboost/features`` baseline (the same
function, windows and seed: the same model). Only the training targets change: the network,
its inputs and everything after training are as without it (docs/quantization.md, "The
window AUC: the best baseline distilled").
"""

from dataclasses import dataclass

import numpy as np

from uvhunt.quant.baselines import feature_matrix, fit_method

TEACHER = ("xgboost", "features")
"""The teacher: (method, feature set) of ``quant.baselines``."""


@dataclass
class Teacher:
    fitted: tuple
    """``fit_method``'s (model, feature set, setting, validation AUC)."""
    probability: np.ndarray
    """(N,) float32: its meteor probability of each training window, 0…1."""

    @property
    def key(self) -> str:
        """The baseline's name in ``fit_baselines``' result (``xgboost/features``)."""
        return "/".join(TEACHER)


def fit_teacher(residual: np.ndarray, label: np.ndarray, session: np.ndarray, seed: int):
    """The teacher searched and fitted on the training windows' residual curves
    ``residual`` (N, frames: counts per GTU over the background, float), ``label`` (0/1) and
    ``session`` (source index of each window), and its probability of each."""
    method, kind = TEACHER
    x = feature_matrix(residual, kind)
    fitted = fit_method(method, kind, x, label, session, seed)
    return Teacher(fitted, fitted[0].predict_proba(x)[:, 1].astype(np.float32))


def soft_targets(label: np.ndarray, probability: np.ndarray, weight: float) -> np.ndarray:
    """(N,) float32 training targets: ``weight`` × ``probability`` + (1 − ``weight``) ×
    ``label``; the labels themselves, exactly, at weight 0."""
    label = np.asarray(label, np.float32)
    return (weight * np.asarray(probability, np.float32) + (1 - weight) * label).astype(np.float32)
