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
    """(N, 5) float32: peak 1, its frame, peak 2, its frame, variance of the residual curve.
    Peak 2 is the highest point more than ``PEAK_SEPARATION`` frames from peak 1."""
    smooth, first = smoothed_peak(residual)
    n, length = smooth.shape
    rows = np.arange(n)
    out = np.empty((n, 5), np.float32)
    out[:, 0], out[:, 1] = smooth[rows, first], first
    frames = np.arange(length)
    near = np.abs(frames[:, None] - frames) <= PEAK_SEPARATION  # (peak frame, frame)
    np.putmask(smooth, near[first], -np.inf)  # in place: smooth is ours
    second = np.argmax(smooth, axis=1)
    out[:, 2], out[:, 3] = smooth[rows, second], second
    out[:, 4] = residual.var(axis=1)
    return out
