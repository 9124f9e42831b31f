"""The peak-gated trigger: a rule with nothing learned, found by asking which of the seed
study's five features carry XGBoost's event-level lead (docs/quantization.md), written in the
integers the trigger core computes.

For pixel ``p`` and the window of ``length`` (L) frames ending at frame ``t``, on the window's
integer codes q_0 … q_{L-1} (``quant.preprocess.Preprocessing.codes`` at the network's shift
and history, but saturated to the gate's own ``bits``, 8, whatever the network's input bits:
the residual from the window's baseline in units of 2**shift raw counts; q_0 the oldest):

    S    = the largest sum of 5 consecutive q (the first, on ties), centred on frame c
    V    = L·Σq² − (Σq)²                      (L² × the window's variance)
    code = ⌊2**F · L² · S² / (25 · (V + L²))⌋  if S > 0 and ``gate[0]`` ≤ c ≤ ``gate[1]``,
    code = −1                                  otherwise,

that is 2**F · z² rounded down, with z = (S/5) / √(variance + 1): the 5-frame mean of the bump
against the window's own spread (not a Poisson σ from its mean), counted only when the bump is
inside the window. Light that rises or falls across the window (a city drifting in, ground
texture, the edge of a cloud) peaks at the window's edge and never counts; a meteor, a few
frames long, passes the middle of some window. A window triggers when its code is above the
threshold code K, which hardware decides without a division: 2**F·L²·S² ≥ (K + 1)·25·(V + L²).
Frames before the first full window hold ``NO_WINDOW``.
"""

from dataclasses import asdict, dataclass, replace

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from uvhunt.detection.scoring import NO_WINDOW
from uvhunt.quant.preprocess import (
    PEAK_FRAMES,
    Preprocessing,
    five_frame_peak,
    five_frame_sums,
    sliding_max,
    window_sums,
)

SUM_FRAMES = PEAK_FRAMES
"""Frames of the moving sum whose peak the rule looks at (the five features' smoothing)."""
BLOCK_FRAMES = 64
"""End frames computed at once (bounds memory: 64 × 2,304 windows)."""


@dataclass(frozen=True)
class PeakGateTrigger:
    length: int = 48
    """Window, D3 frames (the network's)."""
    gate: tuple[int, int] = (8, 39)
    """First and last centre frame of the 5-frame peak (0 = the oldest frame), inclusive."""
    fraction_bits: int = 8
    """F: the code is 2**F · z², rounded down (z² in steps of 1/256)."""
    bits: int = 8
    """Width of the signed codes the rule reads, bits: its own, so that a network on narrower
    codes (``Preprocessing.bits``) keeps the gate it was measured beside (the trigger core
    clips the network's inputs from these codes)."""

    def preprocessing(self, network: Preprocessing) -> Preprocessing:
        """The preprocessing of the rule's codes: the network's, at the rule's ``bits``."""
        return replace(network, bits=self.bits)

    def validate(self) -> "PeakGateTrigger":
        low, high = self.gate
        half = SUM_FRAMES // 2
        if not half <= low <= high < self.length - half:
            raise ValueError(
                f"the peak gate must lie in the window's frames {half}…{self.length - 1 - half} "
                f"(centres of full {SUM_FRAMES}-frame sums; got {low}…{high})"
            )
        if not 2 <= self.bits <= 8:
            raise ValueError(f"the peak gate's input bits must be 2…8 (got {self.bits})")
        if not 0 <= self.fraction_bits <= 16:
            raise ValueError(
                f"the peak gate's fraction bits must be 0…16 (got {self.fraction_bits})"
            )
        return self

    def to_dict(self) -> dict:
        return {**asdict(self), "gate": list(self.gate), "sum_frames": SUM_FRAMES}

    @staticmethod
    def window_parts(q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """S, its centre frame c and V (int64 each) of the rule's codes (..., length), oldest
        first: the integers the trigger core puts out. Computed in int32 where no sum
        can leave it (8-bit inputs: 5× less time than in int64 on a movie)."""
        q = np.asarray(q)
        length = q.shape[-1]
        largest = max(abs(int(q.min())), abs(int(q.max()))) if q.size else 0
        # L·Σq² and (Σq)² are at most L²·largest², and so is V = L·Σq² − (Σq)² ≥ 0
        dtype = np.int32 if length * length * largest * largest < 2**31 else np.int64
        q = q.astype(dtype, copy=False)
        peak, start = five_frame_peak(q, dtype)  # no 5-frame sum leaves ``dtype``
        total = q.sum(axis=-1, dtype=dtype)
        spread = length * np.einsum("...i,...i->...", q, q) - total * total
        return peak, start + SUM_FRAMES // 2, spread.astype(np.int64)

    def window_codes(self, q: np.ndarray) -> np.ndarray:
        """The rule's code (int64) of its codes (..., length), oldest first."""
        return self._code(*self.window_parts(q), np.shape(q)[-1])

    def series_parts(
        self, series: np.ndarray, preprocessing: Preprocessing
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``window_parts`` of the rule's codes of every full window of ``series`` (..., frames)
        of integer raw counts (history form; ``preprocessing`` the network's), (..., windows)
        each, without the codes: where no
        code of a window saturates, they are its samples r less its baseline, so S is the
        series' largest five-frame sum in the window less 5 × baseline (found as the largest
        of sums tagged with their frame, the first on ties), and V = L·Σr² − (Σr)² (a
        variance ignores the baseline); the windows that saturate are coded on their own."""
        length, preprocessing = self.length, self.preprocessing(preprocessing)
        r, baseline, saturated = preprocessing.series_windows(series, length)
        sums = five_frame_sums(r).astype(np.int64)
        frames = sums.shape[-1]
        bits = max(1, frames.bit_length())
        tagged = (sums << bits) | ((1 << bits) - 1 - np.arange(frames))
        best = sliding_max(tagged, length - SUM_FRAMES + 1)
        windows = best.shape[-1]
        peak = (best >> bits) - SUM_FRAMES * baseline.astype(np.int64)
        start = (1 << bits) - 1 - (best & ((1 << bits) - 1)) - np.arange(windows)
        wide = r.astype(np.int64)
        total = window_sums(wide, length)
        spread = length * window_sums(wide * wide, length) - total * total
        if saturated.any():
            q = sliding_window_view(r, length, axis=-1)[saturated] - baseline[saturated, None]
            codes = np.clip(q, preprocessing.low, preprocessing.high)
            peak[saturated], centre, spread[saturated] = self.window_parts(codes)
            start[saturated] = centre - SUM_FRAMES // 2
        return peak, start + SUM_FRAMES // 2, spread

    def _code(self, peak, centre, spread, length: int) -> np.ndarray:
        square = length * length
        code = (peak * peak * (square << self.fraction_bits)) // (
            SUM_FRAMES * SUM_FRAMES * (spread + square)
        )
        inside = (peak > 0) & (centre >= self.gate[0]) & (centre <= self.gate[1])
        return np.where(inside, code, -1)

    def codes(self, raw: np.ndarray, preprocessing: Preprocessing) -> np.ndarray:
        """The code (int32) for every frame and pixel of a movie (frames, 48, 48) of integer
        raw D3 counts (``preprocessing`` the network's): the window ending at that frame;
        ``NO_WINDOW`` before the first."""
        preprocessing = self.preprocessing(preprocessing)
        frames = raw.shape[0]
        series = np.ascontiguousarray(np.asarray(raw).reshape(frames, -1).T, np.int32)
        pixels = series.shape[0]
        out = np.full((frames, pixels), NO_WINDOW, np.int32)
        for start in range(self.length - 1, frames, BLOCK_FRAMES):
            stop = min(start + BLOCK_FRAMES, frames)
            block = series[:, start - self.length + 1 : stop]
            if preprocessing.history_bits:
                code = self._code(*self.series_parts(block, preprocessing), self.length)
            else:
                code = self.window_codes(preprocessing.series_codes(block, self.length))
            out[start:stop] = code.T
        return out.reshape(raw.shape)

    @staticmethod
    def z(code: np.ndarray | float, fraction_bits: int = 8) -> np.ndarray:
        """The significance z a code stands for (its lower edge): √(code / 2**F)."""
        return np.sqrt(np.maximum(np.asarray(code, np.float64), 0) / 2.0**fraction_bits)
