"""The seed study's classical baselines — KNN, random forest, XGBoost, logistic regression —
on raw vectors (the preprocessed residual curve), on the five features, and on both.

Each gets a small hyper-parameter search on the training sessions only: the grid is fitted
on some training sessions and scored (ROC AUC) on the others, the best setting is refitted
on all training sessions. The test session is never seen.
"""

import math
from collections.abc import Callable
from itertools import product

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from xgboost import XGBClassifier, XGBRFClassifier

from uvhunt.quant.features import five_features
from uvhunt.quant.metrics import auc

FEATURE_SETS = ("raw", "features", "both")


def _knn(n_neighbors, seed, balance, features):
    return make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=n_neighbors))


def _forest(max_depth, seed, balance, features):
    """A random forest as XGBoost grows one: 80 trees in one round, each on half the windows,
    √features of the inputs tried at each split (scikit-learn's default), the meteor windows
    weighted up to balance the classes. Histogram splits make it 3–4× faster to fit than
    scikit-learn's, at the same AUC (docs/commands/evaluate.md)."""
    return XGBRFClassifier(
        n_estimators=80,
        max_depth=max_depth,
        subsample=0.5,
        colsample_bynode=max(1, int(math.sqrt(features))) / features,
        scale_pos_weight=balance,
        n_jobs=1,
        random_state=seed,
        verbosity=0,
    )


def _xgboost(max_depth, seed, balance, features):
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


def _logistic(c, seed, balance, features):
    return make_pipeline(
        StandardScaler(), LogisticRegression(C=c, class_weight="balanced", max_iter=3000)
    )


METHODS: dict[str, tuple[Callable, str, tuple]] = {
    "knn": (_knn, "n_neighbors", (15, 45)),
    "random_forest": (_forest, "max_depth", (8, 16)),
    "xgboost": (_xgboost, "max_depth", (3, 6)),
    "logistic_regression": (_logistic, "C", (0.01, 1.0)),
}
"""name: (builder ``(value, seed, not-meteor ÷ meteor, input count) -> model``, searched
parameter, its grid)."""


def feature_matrix(residual: np.ndarray, kind: str) -> np.ndarray:
    if kind == "raw":
        return residual
    features = five_features(residual)
    return features if kind == "features" else np.hstack([residual, features])


def feature_matrices(residual: np.ndarray) -> dict[str, np.ndarray]:
    """``feature_matrix`` of every feature set, the five features computed once."""
    features = five_features(residual)
    return {"raw": residual, "features": features, "both": np.hstack([residual, features])}


def fit_baselines(
    residual: np.ndarray,
    label: np.ndarray,
    session: np.ndarray,
    seed: int,
    progress: Callable[[str], None] | None = None,
    fitted: dict | None = None,
) -> dict:
    """Search and fit every method on every feature set; returns {name: (model, kind,
    chosen setting, validation AUC)} with names like ``knn/raw``. Entries of ``fitted``
    (``fit_method``'s on the same windows and seed, as the distillation teacher is) are
    taken as they are."""
    given, result = fitted or {}, {}
    matrices = feature_matrices(residual)
    for kind, name in product(FEATURE_SETS, METHODS):
        key = f"{name}/{kind}"
        result[key] = given.get(key) or fit_method(name, kind, matrices[kind], label, session, seed)
        if progress:
            progress(key)
    return result


def fit_method(
    name: str, kind: str, x: np.ndarray, label: np.ndarray, session: np.ndarray, seed: int
) -> tuple:
    """One method's search and fit on the feature matrix ``x`` of feature set ``kind``: the
    grid fitted on three quarters of the training sessions and scored on the others (drawn
    by ``seed``), the best setting refitted on all. Returns (model, kind, {parameter:
    setting}, validation AUC)."""
    validation = _validation_split(label, session, seed)
    balance = float((label == 0).sum()) / max(1.0, float((label == 1).sum()))
    build, param, grid = METHODS[name]
    fit, check = (x[~validation], label[~validation]), x[validation]
    scores = [
        auc(label[validation], score)
        for score in _grid_scores(name, build, grid, fit, check, seed, balance)
    ]
    best = int(np.argmax(scores))
    model = build(grid[best], seed, balance, x.shape[1]).fit(x, label)
    return model, kind, {param: grid[best]}, scores[best]


def _validation_split(label: np.ndarray, session: np.ndarray, seed: int) -> np.ndarray:
    """Windows of a quarter of the sessions (at least one), drawn by ``seed``; a random
    quarter of the windows when that leaves one class alone on either side."""
    sessions = np.unique(session)
    rng = np.random.default_rng(seed)
    n_val = max(1, len(sessions) // 4)
    validation = np.isin(session, rng.choice(sessions, n_val, replace=False))
    if len(np.unique(label[validation])) < 2 or len(np.unique(label[~validation])) < 2:
        validation = rng.random(label.size) < 0.25  # too few sessions: a random split
    return validation


def _grid_scores(name, build, grid, fit, check, seed, balance) -> list[np.ndarray]:
    """Each grid value's meteor probability on the validation windows ``check``, fitted on
    ``fit`` (x, label). KNN's values share one neighbour search: the nearest neighbours for
    the largest k begin with those of every smaller k."""
    x, label = fit
    if name != "knn":
        return [
            build(value, seed, balance, x.shape[1]).fit(x, label).predict_proba(check)[:, 1]
            for value in grid
        ]
    model = build(max(grid), seed, balance, x.shape[1]).fit(x, label)
    scaler, neighbours = model[:-1], model[-1]
    _, index = neighbours.kneighbors(scaler.transform(check))  # nearest first
    votes = np.asarray(label)[index] == 1
    return [votes[:, :k].mean(axis=1) for k in grid]


def baseline_scores(fitted: dict, residual: np.ndarray) -> dict[str, np.ndarray]:
    matrices = feature_matrices(residual)
    return {
        name: model.predict_proba(matrices[kind])[:, 1]
        for name, (model, kind, _, _) in fitted.items()
    }
