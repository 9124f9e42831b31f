"""The track stack in integers: the twin a streaming core computes (docs/quantization.md,
"The track stack in integers" and "What a core can keep for the stack"), the float stack's
tracks and recurrence (``track_stack``) on bumps that are integers from the samples on.

For pixel ``p`` at frame ``t`` of a movie of raw D3 counts r (non-negative integers):

    s(t) = min(floor(r / 2^P), 2^M − 1)       (the core's history samples, M bits: 16, not 12)
    B(t) = 2W·s(t) − Σ s over frames t−G−W … t−G−1 and t+G+1 … t+G+W     (2W × the bump, s)
    b(t) = clip(floor(B / 2^R), −2^(N−1), 2^(N−1) − 1), then |b| rounded to Q significant
           bits (halves up): e = max(len(|b|) − Q, 0), |b| := floor((|b| + ⌊2^e / 2⌋) / 2^e)·2^e
           (a mini-float: sign, Q-bit mantissa, exponent e; |b| may round up to 2^(N−1))
    σ(t) = max(isqrt(floor(Σ b² / n)), 1), the sum over the n frames t−H … t+H that have a b
    x(t) = clip(round(b · 2^F / σ), −cap·2^F, cap·2^F)                        (2^−F σ)
    Z(t) = max over v of S_v(t) − max(S_v(t−D), S_v(t+D)),  S_v = Σ_k x(t−k, p − round(v·k))

len is the bit length, isqrt the largest integer whose square is at most the argument, round
the nearest integer with halves away from zero (x is odd in b: a core takes one more quotient
bit of |b| · 2^(F+1) / σ and adds it). What each choice costs, measured on the run's nine
training sessions (the stack alone at 10 false events per hour): the float stack catches 159
meteors, these integers 159 (b with 3 significant bits, 153; all its bits, 158). Measured on
other forms: x truncated toward zero instead of rounded, 144 (bumps from raw counts, R 4);
bumps from the core's 12-bit samples (which clip bright lights at 131 k counts a frame), 83;
squares of b saturated to 8 bits, 2–7. A core keeps each b as the 8-bit mini-float for the
spread's 81 frames: its square enters the running sum and leaves it 81 frames later, and its
x is taken when the window after it is complete (40 frames later).

Z is in units of 2^−F σ, not divided by √K: a threshold on the float's Z is √K·2^F times it
here. Every quantity is an integer of known width: s M bits, b N bits, Σ b² 2N +
⌈log2(2H + 1)⌉ bits, x F + ⌈log2 cap⌉ + 2 bits, S_v up to K·cap·2^F. Frames without a
score, and excluded pixels, hold ``NO_SCORE``.
"""

from dataclasses import dataclass

import numpy as np

from uvhunt.detection.conventional import running_sum
from uvhunt.detection.track_stack import TrackStackTrigger, centred_window

NO_SCORE = np.iinfo(np.int32).min
"""Z where a pixel-frame has no score (incomplete stacks, an excluded pixel)."""


def isqrt(values: np.ndarray) -> np.ndarray:
    """The integer square root (floor) of non-negative int64 ``values`` below 2^52, exactly:
    such a value is an exact double, and the correctly rounded root of k² − 1 stays below k
    while k² ≤ 2^52 (its distance to k, 1/2k, is above half an ulp of k there)."""
    return np.floor(np.sqrt(values.astype(np.float64))).astype(np.int64)


def round_significant(values: np.ndarray, bits: int) -> np.ndarray:
    """Non-negative int64 ``values`` rounded to ``bits`` significant bits (halves up; 0:
    unchanged): the mini-float a core stores (a ``bits``-bit mantissa and an exponent)."""
    if not bits:
        return values
    _, length = np.frexp(values.astype(np.float64))  # bit length, exact below 2^53
    drop = np.maximum(length - bits, 0)
    return ((values + ((1 << drop) >> 1)) >> drop) << drop


def rounded_quotient(b: np.ndarray, sigma: np.ndarray, fraction_bits: int) -> np.ndarray:
    """round(b · 2^F / σ) for int64 ``b`` and positive ``sigma``, halves away from zero: the
    quotient of |b| · 2^(F+1) by σ, plus 1, halved, with b's sign."""
    return np.sign(b) * ((((np.abs(b) << (fraction_bits + 1)) // sigma) + 1) >> 1)


@dataclass(frozen=True)
class IntegerTrackStack(TrackStackTrigger):
    history_shift: int = 5
    """P: bits dropped from the raw counts in the history samples (the core's shift)."""
    history_bits: int = 16
    """M: bits of a history sample, unsigned; brighter samples clip."""
    bump_shift: int = 2
    """R: bits dropped from B (2W × the bump, samples) before it is squared."""
    bump_bits: int = 16
    """N: bits of b, signed; B / 2^R beyond them saturates."""
    bump_significant_bits: int = 4
    """Q: significant bits kept of |b| (0: all)."""
    fraction_bits: int = 2
    """F: fraction bits of x (σ units)."""

    def validate(self) -> "IntegerTrackStack":
        super().validate()
        if not 0 <= self.bump_shift <= 24 or not 4 <= self.bump_bits <= 24:
            raise ValueError(
                "the integer track stack drops 0…24 bits of the bump and keeps 4…24 "
                f"(got bump_shift {self.bump_shift}, bump_bits {self.bump_bits})"
            )
        if not 0 <= self.history_shift <= 24 or not 1 <= self.history_bits <= 24:
            raise ValueError(
                "the integer track stack's history samples drop 0…24 bits of the raw counts "
                f"and keep 1…24 (got history_shift {self.history_shift}, history_bits "
                f"{self.history_bits})"
            )
        if not 0 <= self.bump_significant_bits <= self.bump_bits:
            raise ValueError(
                f"the integer track stack keeps 0…{self.bump_bits} significant bits of a bump "
                f"(got bump_significant_bits {self.bump_significant_bits})"
            )
        if not 0 <= self.fraction_bits <= 8:
            raise ValueError(f"x has 0…8 fraction bits (got {self.fraction_bits})")
        steps = self.cap * 2**self.fraction_bits
        if not np.isfinite(steps) or steps != int(steps):
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

    def parts(self, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(b saturated, b rounded, σ), int64, for frames ``margin`` … frames − ``margin`` − 1
        of a movie (frames, 48, 48) of raw D3 counts (none when it is that short)."""
        frames = len(raw)
        first, stop = self.margin, max(frames - self.margin, self.margin)
        brightest = 2**self.history_bits - 1
        samples = np.minimum(np.asarray(raw, np.int64) >> self.history_shift, brightest)
        around = self.baseline(running_sum(samples, np.int64), first, stop)
        top = 2 ** (self.bump_bits - 1)
        saturated = np.clip(
            (2 * self.width * samples[first:stop] - around) >> self.bump_shift, -top, top - 1
        )
        b = np.sign(saturated) * round_significant(np.abs(saturated), self.bump_significant_bits)
        squares = running_sum(b * b, np.int64)
        low, high = centred_window(len(b), self.spread)
        mean = (squares[high] - squares[low]) // np.maximum(high - low, 1)[:, None, None]
        return saturated, b, np.maximum(isqrt(mean), 1)

    def bumps(self, raw: np.ndarray) -> np.ndarray:
        """x (int32, 2^−F σ, clipped) for a movie (frames, 48, 48) of raw D3 counts; 0 in the
        ``margin`` frames at either end."""
        _, b, sigma = self.parts(raw)
        return self.quotients(np.shape(raw), b, sigma)

    def quotients(self, shape: tuple, b: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """x (int32, 2^−F σ, clipped) of a movie of ``shape`` (frames, 48, 48) from its
        rounded bumps ``b`` and spreads ``sigma`` (``parts``); 0 in the ``margin`` frames at
        either end."""
        x = np.zeros(shape, np.int32)
        if len(b):
            x[self.margin : self.margin + len(b)] = np.clip(
                rounded_quotient(b, sigma, self.fraction_bits), -self.limit, self.limit
            )
        return x

    def significance(self, raw: np.ndarray, excluded: np.ndarray | None = None) -> np.ndarray:
        """Z (int32, 2^−F σ) for every frame and pixel of a movie (frames, 48, 48) of raw D3
        counts, at each track's last frame; ``NO_SCORE`` where a term is undefined and at the
        ``excluded`` pixels (48, 48), which add nothing to any track."""
        return self.stacked(raw, excluded, NO_SCORE, np.int32)
