"""The track stack in integers: the twin a streaming core computes (docs/quantization.md,
"The track stack in integers"), the float stack's tracks and recurrence (``track_stack``) on
bumps that are integers from the raw counts on.

For pixel ``p`` at frame ``t`` of a movie of raw D3 counts r (non-negative integers):

    B(t) = 2W·r(t) − Σ r over frames t−G−W … t−G−1 and t+G+1 … t+G+W     (2W × the float's b)
    b(t) = clip(floor(B / 2^R), −2^(N−1), 2^(N−1) − 1)                      (N bits)
    σ(t) = max(isqrt(floor(Σ b² / n)), 1), the sum over the n frames t−H … t+H that have a b
    x(t) = clip(round(b · 2^F / σ), −cap·2^F, cap·2^F)                        (2^−F σ)
    Z(t) = max over v of S_v(t) − max(S_v(t−D), S_v(t+D)),  S_v = Σ_k x(t−k, p − round(v·k))

isqrt and round are exact (the largest integer whose square is at most the argument; the
quotient rounded to the nearest integer, halves away from zero, so x is odd in b: a core
takes one more quotient bit of |b| · 2^(F+1) / σ and adds it). Rounded, x follows the float
stack (160 training meteors at 10 false events per hour, the float 159); truncated toward
zero, every bump lost half a step on average and it caught 144 (docs/quantization.md).

Z is in units of 2^−F σ, not divided by √K: a threshold on the float's Z is √K·2^F times it
here. Every quantity is an integer of known width: b N bits, Σ b² 2N + ⌈log2(2H + 1)⌉ bits,
x F + ⌈log2 cap⌉ + 2 bits, S_v up to K·cap·2^F. Frames without a score, and excluded
pixels, hold ``NO_SCORE``.
"""

from dataclasses import dataclass

import numpy as np

from uvhunt.detection.conventional import running_sum
from uvhunt.detection.track_stack import TrackStackTrigger

NO_SCORE = np.iinfo(np.int32).min
"""Z where a pixel-frame has no score (incomplete stacks, an excluded pixel)."""


def isqrt(values: np.ndarray) -> np.ndarray:
    """The integer square root (floor) of non-negative int64 ``values`` below 2^52, exactly:
    such a value is an exact double, and the correctly rounded root of k² − 1 stays below k
    while k² ≤ 2^52 (its distance to k, 1/2k, is above half an ulp of k there)."""
    return np.floor(np.sqrt(values.astype(np.float64))).astype(np.int64)


@dataclass(frozen=True)
class IntegerTrackStack(TrackStackTrigger):
    bump_shift: int = 4
    """R: bits dropped from B (2W × the bump, raw counts) before it is squared."""
    bump_bits: int = 16
    """N: bits of b, signed; B / 2^R beyond them saturates."""
    fraction_bits: int = 2
    """F: fraction bits of x (σ units)."""

    def validate(self) -> "IntegerTrackStack":
        super().validate()
        if not 0 <= self.bump_shift <= 24 or not 4 <= self.bump_bits <= 24:
            raise ValueError(
                "the integer track stack drops 0…24 bits of the bump and keeps 4…24 "
                f"(got bump_shift {self.bump_shift}, bump_bits {self.bump_bits})"
            )
        if not 0 <= self.fraction_bits <= 8:
            raise ValueError(f"x has 0…8 fraction bits (got {self.fraction_bits})")
        if self.cap * 2**self.fraction_bits != int(self.cap * 2**self.fraction_bits):
            raise ValueError(
                f"the cap ({self.cap} σ) must be a whole number of x's steps "
                f"(2^-{self.fraction_bits} σ)"
            )
        return self

    @property
    def limit(self) -> int:
        """The largest |x|, in steps of 2^−F σ."""
        return int(self.cap * 2**self.fraction_bits)

    def threshold_from_sigma(self, z: float) -> float:
        """The integer Z equal to the float stack's threshold ``z`` (σ, divided by √K)."""
        return z * np.sqrt(self.frames) * 2**self.fraction_bits

    def bumps(self, raw: np.ndarray) -> np.ndarray:
        """x (int32, 2^−F σ, clipped) for a movie (frames, 48, 48) of raw D3 counts; 0 in the
        ``margin`` frames at either end."""
        frames = len(raw)
        x = np.zeros(np.shape(raw), np.int32)
        first, stop = self.margin, frames - self.margin  # frames with a whole baseline
        if stop <= first:
            return x
        raw = np.asarray(raw, np.int64)
        total = running_sum(raw, np.int64)
        g, w = self.gap, self.width
        t = np.arange(first, stop)
        baseline = total[t - g] - total[t - g - w] + total[t + g + w + 1] - total[t + g + 1]
        top = 2 ** (self.bump_bits - 1)
        b = np.clip((2 * w * raw[first:stop] - baseline) >> self.bump_shift, -top, top - 1)
        squares = running_sum(b * b, np.int64)
        n = len(b)
        low = np.clip(np.arange(n) - self.spread, 0, n)
        high = np.clip(np.arange(n) + self.spread + 1, 0, n)
        mean = (squares[high] - squares[low]) // (high - low)[:, None, None]
        sigma = np.maximum(isqrt(mean), 1)
        quotient = (((np.abs(b) << (self.fraction_bits + 1)) // sigma) + 1) >> 1
        x[first:stop] = np.clip(np.sign(b) * quotient, -self.limit, self.limit)
        return x

    def significance(self, raw: np.ndarray, excluded: np.ndarray | None = None) -> np.ndarray:
        """Z (int32, 2^−F σ) for every frame and pixel of a movie (frames, 48, 48) of raw D3
        counts, at each track's last frame; ``NO_SCORE`` where a term is undefined and at the
        ``excluded`` pixels (48, 48), which add nothing to any track."""
        frames, k, d = len(raw), self.frames, self.recurrence
        first = self.margin + k - 1 + d
        last = frames - 1 - self.margin - d
        if last < first:
            return np.full(np.shape(raw), NO_SCORE, np.int32)
        x = self.bumps(raw)
        if excluded is not None:
            x[:, excluded] = 0
        z = self.best_kept(x)
        z[:first] = NO_SCORE
        z[last + 1 :] = NO_SCORE
        if excluded is not None:
            z[:, excluded] = NO_SCORE
        return z
