"""Raw D3 series for the preprocessing's exactness tests."""

import numpy as np

from uvhunt.quant.preprocess import MAX_RAW


def nasty_series(seed: int, pixels: int, frames: int) -> np.ndarray:
    """Raw series (pixels, frames) int64: night noise, full-range noise, zeros, the largest
    raw value, samples beyond the 12-bit history clip, values just below a shift step, and a
    pixel dying mid-series."""
    rng = np.random.default_rng(seed)
    series = rng.poisson(16384, (pixels, frames)).astype(np.int64)
    series[:60] = rng.integers(0, MAX_RAW + 1, (60, frames))
    series[60:80] = 0
    series[80:100] = MAX_RAW
    series[100:160, ::7] += 32 * 4000
    series[160:220] = (series[160:220] // 32) * 32 + 31
    series[220:240, frames // 2 :] = 0
    return series
