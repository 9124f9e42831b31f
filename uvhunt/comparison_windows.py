"""The real windows every firmware stage is scored on: every meteor window and a uniform draw
of the not-meteor windows the final training did not draw."""

from pathlib import Path

import numpy as np

from euso.window_store import open_window_dataset
from quant.config import TrainConfig
from quant.data import SessionSampler, WindowSet

WINDOW_NEGATIVES = 20_000
"""Not-meteor windows the final training did not draw, picked uniformly (with every meteor
window, which training did use) for test benches, the exactness checks and the float-versus-
hardware ROC AUC."""


def comparison_windows(
    windows: Path, train: TrainConfig, seed: int, negatives: int = WINDOW_NEGATIVES
) -> WindowSet:
    sampler = SessionSampler(open_window_dataset(windows))
    meteors = np.flatnonzero(sampler.label == 1)
    trained_on = sampler.final_training_negatives(train.negatives, train.seed)
    others = np.setdiff1d(np.flatnonzero(sampler.label == 0), trained_on)
    rng = np.random.default_rng(seed)
    index = np.unique(
        np.concatenate([meteors, rng.choice(others, min(negatives, others.size), replace=False)])
    )
    return sampler.take(index, np.ones(index.size, bool))
