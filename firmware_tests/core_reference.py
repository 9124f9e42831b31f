"""The trigger core's reference, in pure Python (no cocotb import): the golden scoring of
`uvhunt detect` applied to a stream of D3 frames.

For pixel ``p`` of frame ``t`` (``t >= length - 1``) the core must output the golden model's
last accumulator for the window of frames ``[t - length + 1, t]`` of that pixel, its trigger
bit ``score > threshold`` (always 0 for a masked pixel, whose score is still given), and on
the frame's last pixel the number of triggered pixels; beside it, the peak-gated trigger's
integers (``detection.peak_gate``: the largest 5-frame sum S of the window's codes at the
gate's own 8 bits, its centre frame, V = L·Σq² − (Σq)²) and its two bits (code above that
frame's gate threshold code, and above its low gate threshold code; 0 for a masked pixel).
Frames before the ``length``-th give ``window_valid = 0`` and zeros everywhere.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from uvhunt.detection.peak_gate import PeakGateTrigger
from uvhunt.detection.scoring import window_codes
from uvhunt.hls.trigger_core import GATE_THRESHOLD_BITS
from uvhunt.quant.golden import GoldenMLP
from uvhunt.quant.preprocess import Preprocessing

GATE_NEVER = (1 << GATE_THRESHOLD_BITS) - 1
"""The gate threshold code no window passes (the core's all-ones)."""


@dataclass(frozen=True)
class Expected:
    """What the core must put out for a stream of ``frames`` × ``pixels`` raw values."""

    window_valid: np.ndarray
    """(frames,) bool: the frame has full windows."""
    score: np.ndarray
    """(frames, pixels) int64: the window's score (0 before the first full window)."""
    trigger: np.ndarray
    """(frames, pixels) bool: score above that frame's threshold."""
    count: np.ndarray
    """(frames,) int64: triggered pixels of the frame."""
    gate_peak: np.ndarray
    """(frames, pixels) int64: the peak gate's S (0 before the first full window)."""
    gate_centre: np.ndarray
    """(frames, pixels) int64: S's centre frame in the window (0 = the oldest)."""
    gate_spread: np.ndarray
    """(frames, pixels) int64: V, L² times the window's input variance."""
    gate_trigger: np.ndarray
    """(frames, pixels) bool: the peak gate's code above that frame's gate threshold."""
    gate_low: np.ndarray
    """(frames, pixels) bool: the peak gate's code above that frame's low gate threshold."""


class CoreReference:
    """The golden scoring of a raw stream, for the golden model and preprocessing given."""

    def __init__(
        self, golden: GoldenMLP, preprocessing: Preprocessing, gate: PeakGateTrigger | None = None
    ):
        self.golden, self.preprocessing = golden.compile(), preprocessing
        self.length = golden.sizes[0] - int(preprocessing.peak_input)  # window, frames
        self.gate = (gate or PeakGateTrigger(self.length)).validate()

    @classmethod
    def read(cls, golden_path: Path, preprocessing: dict) -> "CoreReference":
        return cls(GoldenMLP.read(Path(golden_path)), Preprocessing(**preprocessing))

    def _inputs(self, raw: np.ndarray, preprocessing: Preprocessing | None = None) -> np.ndarray:
        """(pixels, windows, inputs) network inputs of every full window of a raw stream (the
        peak input last, if the preprocessing gives it), by ``preprocessing`` (default the
        network's)."""
        series = np.ascontiguousarray(np.asarray(raw, np.int64).T, dtype=np.int32)
        return window_codes(series, preprocessing or self.preprocessing, self.length)

    def _per_window(self, raw: np.ndarray, values: np.ndarray) -> np.ndarray:
        """(frames, pixels) int64: ``values`` (pixels, windows) at each window's last frame,
        0 before the first."""
        out = np.zeros(np.shape(raw), np.int64)
        if len(raw) >= self.length:
            out[self.length - 1 :] = np.asarray(values).T
        return out

    def scores(self, raw: np.ndarray) -> np.ndarray:
        """(frames, pixels) int64 scores of a raw stream (frames, pixels); 0 before the
        first full window."""
        frames, pixels = np.shape(raw)
        if frames < self.length:
            return np.zeros((frames, pixels), np.int64)
        codes = self._inputs(raw)
        acc = self.golden.predict_int(codes.reshape(-1, codes.shape[-1]))
        return self._per_window(raw, acc.reshape(pixels, -1))

    def gate_parts(self, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(frames, pixels) int64 S, centre, V and code of the peak gate; 0 (code −1) before
        the first full window."""
        if len(raw) < self.length:
            zero = np.zeros(np.shape(raw), np.int64)
            return zero, zero, zero, zero - 1
        gate_preprocessing = self.gate.preprocessing(self.preprocessing)
        q = self._inputs(raw, gate_preprocessing)[..., : self.length]  # the gate's codes
        peak, centre, spread = self.gate.window_parts(q)
        code = self._per_window(raw, self.gate.window_codes(q))
        code[: self.length - 1] = -1
        return (*(self._per_window(raw, a) for a in (peak, centre, spread)), code)

    def expected(
        self,
        raw: np.ndarray,
        thresholds: np.ndarray,
        mask: np.ndarray | None = None,
        gate_thresholds: np.ndarray | None = None,
        gate_low_thresholds: np.ndarray | None = None,
    ) -> Expected:
        """Every output of a stream; ``thresholds[t]``, ``gate_thresholds[t]``,
        ``gate_low_thresholds[t]``: the network's and the peak gate's two threshold codes
        during frame ``t`` (the gate's: default never); ``mask`` (pixels,): pixels that never
        trigger (nonzero)."""
        score = self.scores(raw)
        valid = np.arange(len(raw)) >= self.length - 1
        live = valid[:, None] & (True if mask is None else ~np.asarray(mask, bool)[None, :])
        trigger = (score > np.asarray(thresholds, np.int64)[:, None]) & live
        peak, centre, spread, code = self.gate_parts(raw)
        never = np.full(len(raw), GATE_NEVER)
        gate_trigger, gate_low = (
            (code > np.asarray(never if k is None else k, np.int64)[:, None]) & live
            for k in (gate_thresholds, gate_low_thresholds)
        )
        return Expected(
            valid, score, trigger, trigger.sum(axis=1), peak, centre, spread, gate_trigger, gate_low
        )
