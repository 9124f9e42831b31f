"""The seed study's five features of a light curve: the two highest peaks of the smoothed
curve, their positions, and the variance."""

import numpy as np
from scipy.ndimage import uniform_filter1d

SMOOTHING_FRAMES = 5
"""Moving-average width of the smoothed curve, frames."""
PEAK_SEPARATION = 5
"""Frames around the first peak excluded when looking for the second, each side."""


def smoothed_peak(residual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The residual curves (N, length) smoothed (float64, ``SMOOTHING_FRAMES`` moving average,
    edges held) and the frame of each one's highest point (the first, on ties)."""
    smooth = uniform_filter1d(
        np.asarray(residual, np.float64), SMOOTHING_FRAMES, axis=1, mode="nearest"
    )
    return smooth, np.argmax(smooth, axis=1)


def five_features(residual: np.ndarray) -> np.ndarray:
    """(N, 5) float32: peak 1, its frame, peak 2, its frame, variance of the residual curve."""
    smooth, first = smoothed_peak(residual)
    n, length = smooth.shape
    frames = np.arange(length)
    masked = np.where(np.abs(frames - first[:, None]) <= PEAK_SEPARATION, -np.inf, smooth)
    second = np.argmax(masked, axis=1)
    rows = np.arange(n)
    return np.stack(
        [smooth[rows, first], first, masked[rows, second], second, residual.var(axis=1)], axis=1
    ).astype(np.float32)
