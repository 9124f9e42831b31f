"""The conventional trigger: the per-pixel threshold trigger a meteor network must beat, in the
style of Mini-EUSO's flight triggers (L1: an 8-GTU sum above SUM/16 + 4·√SUM of 128 GTUs;
L2: an 8-frame moving sum above a multiple of the mean of the previous 128 frames).

On D3 frames: for pixel ``p`` at frame ``t``, the moving sum ``S`` of the last ``frames``
frames and the background ``B``, the mean per frame of the ``background`` frames before
them (raw D3 counts). The raw D3 sums count photoelectrons, so the sum's noise is Poisson
and the significance is ``z = (S − frames·B) / √(frames·B)`` (σ units); the trigger fires
when ``z`` passes the threshold. Frames without a full history have no score (NaN).
"""

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class ConventionalTrigger:
    frames: int = 4
    """Moving-sum length, D3 frames."""
    background: int = 128
    """Frames of the running background before the sum (as the flight L2 trigger), D3 frames."""

    def validate(self) -> "ConventionalTrigger":
        if not 1 <= self.frames <= 64 or not 1 <= self.background <= 1024:
            raise ValueError(
                f"the conventional trigger needs 1…64 sum frames and 1…1,024 background frames "
                f"(got {self.frames} and {self.background})"
            )
        return self

    @property
    def history(self) -> int:
        """Frames a pixel needs before its first score."""
        return self.frames + self.background

    def to_dict(self) -> dict:
        return asdict(self)

    def significance(self, raw: np.ndarray) -> np.ndarray:
        """``z`` (float32, σ) for every frame of a raw movie (frames, ...) of D3 counts; NaN
        before the first full history. A pixel with no background light gets ``z`` = 0."""
        raw = np.asarray(raw, np.float64)
        total = np.concatenate([np.zeros((1,) + raw.shape[1:]), np.cumsum(raw, axis=0)])
        z = np.full(raw.shape, np.nan, np.float32)
        n, m = self.frames, self.background
        if len(raw) < self.history:
            return z
        end = np.arange(self.history - 1, len(raw)) + 1  # exclusive end of each sum
        signal = total[end] - total[end - n]
        expected = (total[end - n] - total[end - n - m]) * (n / m)
        with np.errstate(divide="ignore", invalid="ignore"):
            sigma = np.sqrt(expected)
            z[self.history - 1 :] = np.where(sigma > 0, (signal - expected) / sigma, 0.0)
        return z
