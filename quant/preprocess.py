"""Integer input preprocessing: what the firmware does to a pixel's window before the network.

From one pixel's window of ``length`` D3 values (48):

1. ``raw``: integer raw D3 counts — values in counts per GTU are multiplied by 16,384 and
   rounded to the nearest integer, so raw and per-GTU data give the same integers.
2. ``baseline = floor(sum(raw) / length)``: the window's mean, rounded down (in firmware a
   constant multiply and shift, exact for the value range).
3. ``residual = raw - baseline``.
4. ``q = floor(residual / 2**shift)``, an arithmetic right shift (truncation, AP_TRN),
   saturated to the signed range of ``bits`` bits: [-2**(bits-1), 2**(bits-1) - 1].

``q`` are the network's integer inputs (scale 1). All steps are integer arithmetic.
"""

from dataclasses import asdict, dataclass

import numpy as np

from uvhunt.euso.timing import D3_GTUS
from uvhunt.euso.units import PER_GTU, check_units

MAX_RAW = D3_GTUS * 255
"""Largest possible raw D3 value: 16,384 GTUs of at most 255 counts (uint8 D1)."""


@dataclass(frozen=True)
class Preprocessing:
    """Integer preprocessing of a window (see the module docstring)."""

    shift: int = 5
    """Right shift of the baseline-subtracted counts (divide by 2**shift, rounding down)."""
    bits: int = 8
    """Width of the saturated signed integer fed to the network, bits."""

    def validate(self) -> "Preprocessing":
        if not 0 <= self.shift <= 24:
            raise ValueError(f"preprocessing shift must be 0…24 bits (got {self.shift})")
        if not 2 <= self.bits <= 16:
            raise ValueError(f"input bits must be 2…16 (got {self.bits})")
        return self

    @property
    def low(self) -> int:
        return -(2 ** (self.bits - 1))

    @property
    def high(self) -> int:
        return 2 ** (self.bits - 1) - 1

    def to_dict(self) -> dict:
        return asdict(self)

    def __call__(self, windows: np.ndarray, units: str) -> np.ndarray:
        """Integer network inputs (N, length) int32 from windows (N, length) in ``units``."""
        raw = raw_counts(windows, units)
        baseline = raw.sum(axis=1, keepdims=True) // raw.shape[1]
        q = (raw - baseline) >> self.shift
        return np.clip(q, self.low, self.high).astype(np.int32)


def raw_counts(windows: np.ndarray, units: str) -> np.ndarray:
    """Windows as integer raw D3 counts (int64), clipped to the instrument's range."""
    values = np.asarray(windows, dtype=np.float64)
    if check_units(units) == PER_GTU:
        values = values * D3_GTUS
    return np.clip(np.rint(values), 0, MAX_RAW).astype(np.int64)


def float_residual(windows: np.ndarray, units: str, preprocessing: Preprocessing) -> np.ndarray:
    """The float model's input: ``(raw - mean(raw)) / 2**shift``, saturated to the same range
    but not rounded (float32) — the unquantized twin of ``Preprocessing.__call__``."""
    raw = raw_counts(windows, units).astype(np.float64)
    residual = (raw - raw.mean(axis=1, keepdims=True)) / 2.0**preprocessing.shift
    return np.clip(residual, preprocessing.low, preprocessing.high).astype(np.float32)
