"""Mini-EUSO focal surface: 48×48 pixels in 6×6 multi-anode PMTs of 8×8, with dead gaps.

Two coordinate systems are used throughout, both in units of one pixel pitch:

* **pixel index** ``(row, col)``: integers 0…47 name the pixels; a float position has
  pixel ``i`` covering ``[i - 0.5, i + 0.5)`` — what a user sees in a frame.
* **focal** ``(u, v)``: physical position on the focal surface. The PMTs are separated
  by ``PMT_GAP`` pitches of dead area, so pixel ``i`` is centred at
  ``i + PMT_GAP * (i // 8)``. Light that falls into a gap is lost.
"""

import numpy as np

from uvhunt.euso.timing import D3_S, ISS_SPEED_KM_S

N_SIDE = 48
"""Pixels per side of the focal surface."""
N_PIXELS = N_SIDE * N_SIDE
PMT_SIDE = 8
"""Pixels per side of one multi-anode PMT."""
N_PMT_SIDE = N_SIDE // PMT_SIDE
"""PMTs per side (6; 36 in all)."""
PMT_GAP = 1.0
"""Dead gap between neighbouring PMTs, pixel pitches (about one pixel)."""
FOCAL_EXTENT = N_SIDE + (N_PMT_SIDE - 1) * PMT_GAP
"""Width of the focal surface including gaps, pixel pitches (53)."""

GROUND_PIXEL_KM = 6.3
"""Ground footprint of one pixel at nadir, km."""
DRIFT_PIXELS_PER_FRAME = ISS_SPEED_KM_S * D3_S / GROUND_PIXEL_KM
"""Ground scene drift across the focal surface, pixel pitches per D3 frame (≈0.05)."""

PIXEL_CENTRES = np.arange(N_SIDE) + PMT_GAP * (np.arange(N_SIDE) // PMT_SIDE)
"""Focal coordinate of each pixel index's centre along one axis, pixel pitches."""
FOCAL_MIN = float(PIXEL_CENTRES[0]) - 0.5
FOCAL_MAX = float(PIXEL_CENTRES[-1]) + 0.5
"""Edges of the focal surface along each axis, focal coordinates (-0.5 … 52.5)."""


def pmt_of_pixel(index: np.ndarray) -> np.ndarray:
    """PMT number (0…35, row-major) of pixel ``index`` = row * 48 + col."""
    index = np.asarray(index)
    row, col = index // N_SIDE, index % N_SIDE
    return (row // PMT_SIDE) * N_PMT_SIDE + col // PMT_SIDE


def pmt_map() -> np.ndarray:
    """48×48 map of the PMT number of every pixel."""
    return pmt_of_pixel(np.arange(N_PIXELS)).reshape(N_SIDE, N_SIDE)


def focal_to_pixel(u: np.ndarray) -> np.ndarray:
    """Map focal coordinates to float pixel-index coordinates (one axis).

    Points inside a PMT gap map onto the edge of the nearer PMT's last pixel (…, 7.5).
    """
    u = np.asarray(u, dtype=float)
    pitch = PMT_SIDE + PMT_GAP
    pmt = np.floor((u + 0.5) / pitch)
    within = np.clip(u + 0.5 - pmt * pitch, 0.0, PMT_SIDE)
    return pmt * PMT_SIDE + within - 0.5


def pixel_to_focal(i: np.ndarray) -> np.ndarray:
    """Map float pixel-index coordinates to focal coordinates (one axis)."""
    i = np.asarray(i, dtype=float)
    return i + PMT_GAP * np.floor((i + 0.5) / PMT_SIDE)


def nearest_pixel(u: np.ndarray) -> np.ndarray:
    """Index of the pixel whose centre is nearest to focal coordinate ``u`` (clipped 0…47)."""
    midpoints = (PIXEL_CENTRES[1:] + PIXEL_CENTRES[:-1]) / 2.0
    return np.searchsorted(midpoints, np.asarray(u, dtype=float)).astype(np.int64)
