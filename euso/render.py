"""Render light sources onto the focal surface, honouring the PMT gaps.

All fluxes are expected photon counts in raw D3 units (summed over one D3 frame of
16,384 GTUs). A source's light is a 2-D Gaussian on the focal surface (focal
coordinates, pixel pitches); each pixel receives the integral over its own area, so
light falling into a PMT gap is lost, as on the instrument.
"""

import numpy as np
from scipy.special import ndtr

from uvhunt.euso.geometry import N_SIDE, PIXEL_CENTRES, nearest_pixel


def _axis_fractions(centre: np.ndarray, sigma: float, half: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel indices (T, K) around ``centre`` (T,) and the Gaussian fraction on each."""
    offsets = np.arange(-half, half + 1)
    index = nearest_pixel(centre)[:, None] + offsets
    inside = (index >= 0) & (index < N_SIDE)
    index = np.clip(index, 0, N_SIDE - 1)
    edge = PIXEL_CENTRES[index] - centre[:, None]
    fraction = ndtr((edge + 0.5) / sigma) - ndtr((edge - 0.5) / sigma)
    return index, np.where(inside, fraction, 0.0)


def gaussian_spot(
    frames: np.ndarray, u: np.ndarray, v: np.ndarray, flux: np.ndarray, sigma: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Light of a Gaussian spot at focal position (u, v) in each of ``frames``.

    ``frames``, ``u``, ``v``, ``flux`` have one entry per (frame, sub-step); ``flux`` is the
    spot's total light in raw D3 counts. Returns COO arrays ``frame, row, col, counts`` (one
    entry per lit pixel; entries may repeat when sub-steps share a frame).
    """
    half = int(np.ceil(4.0 * sigma)) + 1
    rows, fy = _axis_fractions(np.asarray(u, float), sigma, half)
    cols, fx = _axis_fractions(np.asarray(v, float), sigma, half)
    counts = np.asarray(flux, float)[:, None, None] * fy[:, :, None] * fx[:, None, :]
    k = rows.shape[1]
    frame = np.broadcast_to(np.asarray(frames)[:, None, None], counts.shape)
    row = np.broadcast_to(rows[:, :, None], counts.shape)
    col = np.broadcast_to(cols[:, None, :], (len(cols), k, k))
    keep = counts > 0
    return frame[keep], row[keep], col[keep], counts[keep]


def merge_coo(
    frame: np.ndarray, row: np.ndarray, col: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sum repeated (frame, row, col) entries of a COO light list."""
    if frame.size == 0:
        return frame, row, col, counts
    key = (frame.astype(np.int64) * N_SIDE + row) * N_SIDE + col
    unique, inverse = np.unique(key, return_inverse=True)
    summed = np.bincount(inverse, weights=counts)
    col_u = unique % N_SIDE
    row_u = (unique // N_SIDE) % N_SIDE
    frame_u = unique // (N_SIDE * N_SIDE)
    return frame_u, row_u, col_u, summed
