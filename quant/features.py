"""The seed study's five features of a light curve: the two highest peaks of the smoothed
curve, their positions, and the variance."""

import numpy as np
from scipy.ndimage import uniform_filter1d

SMOOTHING_FRAMES = 5
"""Moving-average width of the smoothed curve, frames."""
PEAK_SEPARATION = 5
"""Frames around the first peak excluded when looking for the second, each side."""


def five_features(residual: np.ndarray) -> np.ndarray:
    """(N, 5) float32: peak 1, its frame, peak 2, its frame, variance of the residual curve."""
    smooth = uniform_filter1d(
        np.asarray(residual, np.float64), SMOOTHING_FRAMES, axis=1, mode="nearest"
    )
    n, length = smooth.shape
    first = np.argmax(smooth, axis=1)
    frames = np.arange(length)
    masked = np.where(np.abs(frames - first[:, None]) <= PEAK_SEPARATION, -np.inf, smooth)
    second = np.argmax(masked, axis=1)
    rows = np.arange(n)
    return np.stack(
        [smooth[rows, first], first, masked[rows, second], second, residual.var(axis=1)], axis=1
    ).astype(np.float32)
