"""The peak-gated trigger: a rule with nothing learned, found by asking which of the seed
study's five features carry XGBoost's event-level lead (docs/quantization.md).

For pixel ``p`` and the window of ``length`` frames ending at frame ``t``, on the network's
own float input (``quant.preprocess.float_residual``: the residual from the window's mean in
units of 2**shift raw counts, clipped as the integer inputs are), the five features give the
highest point of the residual's 5-frame moving average, its frame in the window, and the
residual's variance. The trigger's score is

    z = peak / √(variance + 1)        if the peak's frame lies in ``gate`` (inclusive),
    z = −∞                            otherwise,

a significance against the window's own spread (not a Poisson σ from its mean), counted only
when the bump is inside the window. Light that rises or falls across the window (a city
drifting in, ground texture, the edge of a cloud) peaks at the window's edge and is never
counted; a meteor, a few frames long, passes the middle of some window. Frames before the
first full window have no score (NaN).
"""

from dataclasses import asdict, dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from uvhunt.quant.features import smoothed_peak
from uvhunt.quant.preprocess import Preprocessing, float_residual

BLOCK_FRAMES = 64
"""End frames scored at once (bounds memory: 64 × 2,304 windows)."""


@dataclass(frozen=True)
class PeakGateTrigger:
    length: int = 48
    """Window, D3 frames (the network's)."""
    gate: tuple[int, int] = (6, 41)
    """First and last frame of the window (0 = oldest) where the peak may lie."""

    def validate(self) -> "PeakGateTrigger":
        low, high = self.gate
        if not 0 <= low <= high < self.length:
            raise ValueError(
                f"the peak gate must lie in the window's frames 0…{self.length - 1} "
                f"(got {low}…{high})"
            )
        return self

    def to_dict(self) -> dict:
        return {**asdict(self), "gate": list(self.gate)}

    def window_scores(self, residual: np.ndarray) -> np.ndarray:
        """``z`` (float64) of windows' float residuals (N, length)."""
        # the five features' peak, its frame and the variance (``quant.features``), without
        # the second peak, which the rule does not use
        smooth, frame = smoothed_peak(residual)
        peak = smooth[np.arange(len(frame)), frame].astype(np.float32)
        variance = residual.var(axis=1).astype(np.float32)
        inside = (frame >= self.gate[0]) & (frame <= self.gate[1])
        return np.where(inside, peak / np.sqrt(variance.astype(np.float64) + 1.0), -np.inf)

    def scores(self, raw: np.ndarray, preprocessing: Preprocessing) -> np.ndarray:
        """``z`` (float32) for every frame and pixel of a raw movie (frames, 48, 48) of D3
        counts: the window ending at that frame; NaN before the first full window."""
        frames = raw.shape[0]
        series = np.ascontiguousarray(np.asarray(raw).reshape(frames, -1).T)
        pixels = series.shape[0]
        out = np.full((frames, pixels), np.nan, np.float32)
        view = sliding_window_view(series, self.length, axis=1)
        for start in range(self.length - 1, frames, BLOCK_FRAMES):
            stop = min(start + BLOCK_FRAMES, frames)
            windows = view[:, start - self.length + 1 : stop - self.length + 1]
            residual = float_residual(windows.reshape(-1, self.length), "raw", preprocessing)
            out[start:stop] = self.window_scores(residual).reshape(pixels, stop - start).T
        return out.reshape(raw.shape)
