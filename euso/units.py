"""D3 value units: raw sums over 16,384 GTUs, or counts per GTU.

The flight data hold D3 as the raw sum of D1 counts over 16,384 GTUs (uint32); some
level-0 ROOT files store D3 as float, and the per-GTU scale of real files is not
documented. uvhunt accepts both:

* ``raw``: photon counts summed over one D3 frame (16,384 GTUs); night background ≈ 16,384.
* ``per_gtu``: the same divided by 16,384 — mean counts per GTU; night background ≈ 1.

``detect_units`` tells them apart by magnitude: a raw D3 value is 16,384 times the
per-GTU one, so a median of the positive values below ``PER_GTU_MEDIAN_LIMIT`` can only
be per-GTU (as raw it would mean under 0.016 counts per GTU, darker than any night sky).
"""

import numpy as np

from uvhunt.euso.timing import D3_GTUS

RAW = "raw"
PER_GTU = "per_gtu"
UNITS = (RAW, PER_GTU)
PER_GTU_MEDIAN_LIMIT = 256.0
"""Median (of positive values) below which D3 data are taken as counts per GTU."""


def detect_units(sample: np.ndarray) -> str:
    """Guess the units of a sample of D3 values (see the module docstring)."""
    positive = np.asarray(sample)[np.asarray(sample) > 0]
    if positive.size == 0:
        return RAW
    return PER_GTU if float(np.median(positive)) < PER_GTU_MEDIAN_LIMIT else RAW


def to_raw(values: np.ndarray, units: str) -> np.ndarray:
    """Convert D3 values in ``units`` to raw sums over 16,384 GTUs (float32)."""
    check_units(units)
    values = np.asarray(values, dtype=np.float32)
    return values * np.float32(D3_GTUS) if units == PER_GTU else values


def check_units(units: str) -> str:
    if units not in UNITS:
        raise ValueError(f"unknown D3 units {units!r}: use one of {', '.join(UNITS)}")
    return units
