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

    def significance(self, raw: np.ndarray, running: np.ndarray | None = None) -> np.ndarray:
        """``z`` (float32, σ) for every frame of a raw movie (frames, ...) of D3 counts; NaN
        before the first full history. A pixel with no background light gets ``z`` = 0.
        ``running``: the movie's ``running_sum``, if already at hand (settings share it)."""
        frames = len(raw)
        z = np.full(np.shape(raw), np.nan, np.float32)
        n, m, first = self.frames, self.background, self.history
        if frames < first:
            return z
        total = running_sum(raw) if running is None else running
        if total.shape != (frames + 1,) + np.shape(raw)[1:]:
            raise ValueError(
                f"the running sum has shape {total.shape}, the movie {np.shape(raw)}: "
                "it must be running_sum(raw), one entry more than the movie's frames"
            )
        # for the sums ending at frames first - 1 …: slices of the running sum, no copies
        sum_start = total[first - n : frames + 1 - n]
        signal = total[first:] - sum_start
        expected = sum_start - total[: frames + 1 - n - m]
        expected *= n / m
        signal -= expected
        with np.errstate(invalid="ignore"):  # a negative mean (not a count): σ NaN, z 0
            np.sqrt(expected, out=expected)  # σ
        np.divide(signal, expected, out=signal, where=expected > 0)
        signal[~(expected > 0)] = 0.0  # σ 0 (no background light) or NaN: z = 0
        z[first - 1 :] = signal
        return z


def running_sum(raw: np.ndarray, dtype=np.float64) -> np.ndarray:
    """(frames + 1, ...) ``dtype``: entry ``i`` is the sum of a movie's first ``i`` frames
    (raw D3 counts; exact below 2**53 in float64, 2**63 in int64)."""
    raw = np.asarray(raw)
    total = np.empty((len(raw) + 1,) + raw.shape[1:], dtype)
    total[0] = 0
    np.cumsum(raw, axis=0, dtype=dtype, out=total[1:])
    return total
