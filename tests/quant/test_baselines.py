import numpy as np
import pytest

from uvhunt.quant.baselines import (
    FEATURE_SETS,
    METHODS,
    _grid_scores,
    feature_matrices,
    feature_matrix,
    fit_baselines,
)


def _data(seed=0, n=3000):
    """Residual curves (n, 48): noise, a fifth of them with a 5-frame bump (the meteors)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (n, 48)).astype(np.float32)
    label = (rng.random(n) < 0.2).astype(np.int64)
    start = rng.integers(5, 38, n)
    for i in np.flatnonzero(label):
        x[i, start[i] : start[i] + 5] += rng.uniform(1, 4)
    return x, label


@pytest.mark.parametrize("kind", ["raw", "features"])
def test_knn_grid_from_one_neighbour_search_equals_one_fit_per_value(kind):
    x, label = _data()
    fit, check = (feature_matrix(x[:2000], kind), label[:2000]), feature_matrix(x[2000:], kind)
    build, _, grid = METHODS["knn"]
    shared = _grid_scores("knn", build, grid, fit, check, 0, 4.0)
    for k, scores in zip(grid, shared, strict=True):
        direct = build(k, 0, 4.0, check.shape[1]).fit(*fit).predict_proba(check)[:, 1]
        np.testing.assert_array_equal(scores, direct)


def test_every_baseline_learns_the_bump_and_the_same_seed_gives_the_same_numbers():
    x, label = _data()
    session = np.repeat(np.arange(6), 500)
    first = fit_baselines(x, label, session, seed=3)
    again = fit_baselines(x, label, session, seed=3)
    assert len(first) == len(METHODS) * 3
    for name, (_model, kind, setting, validation_auc) in first.items():
        assert again[name][2] == setting and again[name][3] == validation_auc, name
        if kind != "raw" or not name.startswith("logistic"):  # a bump anywhere: not linear
            assert validation_auc > 0.75, (name, validation_auc)


def test_the_feature_matrices_computed_together_equal_each_one_alone():
    x, _ = _data(seed=1, n=500)
    together = feature_matrices(x)
    assert list(together) == list(FEATURE_SETS)
    for kind in FEATURE_SETS:
        np.testing.assert_array_equal(together[kind], feature_matrix(x, kind))
