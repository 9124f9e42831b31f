"""The seed study's classical baselines — KNN, random forest, XGBoost, logistic regression —
on raw vectors (the preprocessed residual curve), on the five features, and on both.

Each gets a small hyper-parameter search on the training sessions only: the grid is fitted
on some training sessions and scored (ROC AUC) on the others, the best setting is refitted
on all training sessions. The test session is never seen.
"""

from collections.abc import Callable
from itertools import product

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from xgboost import XGBClassifier

from uvhunt.quant.features import five_features
from uvhunt.quant.metrics import auc

FEATURE_SETS = ("raw", "features", "both")


def _knn(n_neighbors, seed, balance):
    return make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=n_neighbors))


def _forest(max_depth, seed, balance):
    return RandomForestClassifier(
        n_estimators=80,
        max_depth=max_depth,
        min_samples_leaf=2,
        max_samples=0.5,
        class_weight="balanced_subsample",
        n_jobs=1,
        random_state=seed,
    )


def _xgboost(max_depth, seed, balance):
    return XGBClassifier(
        n_estimators=200,
        max_depth=max_depth,
        learning_rate=0.1,
        subsample=0.8,
        scale_pos_weight=balance,
        n_jobs=1,
        random_state=seed,
        verbosity=0,
    )


def _logistic(c, seed, balance):
    return make_pipeline(
        StandardScaler(), LogisticRegression(C=c, class_weight="balanced", max_iter=3000)
    )


METHODS: dict[str, tuple[Callable, str, tuple]] = {
    "knn": (_knn, "n_neighbors", (15, 45)),
    "random_forest": (_forest, "max_depth", (8, 16)),
    "xgboost": (_xgboost, "max_depth", (3, 6)),
    "logistic_regression": (_logistic, "C", (0.01, 1.0)),
}
"""name: (builder, searched parameter, its grid)."""


def feature_matrix(residual: np.ndarray, kind: str) -> np.ndarray:
    if kind == "raw":
        return residual
    features = five_features(residual)
    return features if kind == "features" else np.hstack([residual, features])


def fit_baselines(
    residual: np.ndarray,
    label: np.ndarray,
    session: np.ndarray,
    seed: int,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Search and fit every method on every feature set; returns {name: (model, kind,
    chosen setting, validation AUC)} with names like ``knn/raw``."""
    sessions = np.unique(session)
    rng = np.random.default_rng(seed)
    n_val = max(1, len(sessions) // 4)
    validation = np.isin(session, rng.choice(sessions, n_val, replace=False))
    if len(np.unique(label[validation])) < 2 or len(np.unique(label[~validation])) < 2:
        validation = rng.random(label.size) < 0.25  # too few sessions: a random split
    balance = float((label == 0).sum()) / max(1.0, float((label == 1).sum()))
    fitted = {}
    for kind, (name, (build, param, grid)) in product(FEATURE_SETS, METHODS.items()):
        x = feature_matrix(residual, kind)
        scores = []
        for value in grid:
            model = build(value, seed, balance).fit(x[~validation], label[~validation])
            scores.append(auc(label[validation], model.predict_proba(x[validation])[:, 1]))
        best = int(np.argmax(scores))
        model = build(grid[best], seed, balance).fit(x, label)
        fitted[f"{name}/{kind}"] = (model, kind, {param: grid[best]}, scores[best])
        if progress:
            progress(f"{name}/{kind}")
    return fitted


def baseline_scores(fitted: dict, residual: np.ndarray) -> dict[str, np.ndarray]:
    matrices = {kind: feature_matrix(residual, kind) for kind in FEATURE_SETS}
    return {
        name: model.predict_proba(matrices[kind])[:, 1]
        for name, (model, kind, _, _) in fitted.items()
    }
