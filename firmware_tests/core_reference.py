"""The trigger core's reference, in pure Python (no cocotb import): the golden scoring of
`uvhunt detect` applied to a stream of D3 frames.

For pixel ``p`` of frame ``t`` (``t >= length - 1``) the core must output the golden model's
last accumulator for the window of frames ``[t - length + 1, t]`` of that pixel, its trigger
bit ``score > threshold`` (always 0 for a masked pixel, whose score is still given), and on
the frame's last pixel the number of triggered pixels. Frames before the ``length``-th give
``window_valid = 0``, score 0, trigger 0.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from uvhunt.detection.scoring import window_codes
from uvhunt.quant.golden import GoldenMLP
from uvhunt.quant.preprocess import Preprocessing


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


class CoreReference:
    """The golden scoring of a raw stream, for the golden model and preprocessing given."""

    def __init__(self, golden: GoldenMLP, preprocessing: Preprocessing):
        self.golden, self.preprocessing = golden.compile(), preprocessing
        self.length = golden.sizes[0]

    @classmethod
    def read(cls, golden_path: Path, preprocessing: dict) -> "CoreReference":
        return cls(GoldenMLP.read(Path(golden_path)), Preprocessing(**preprocessing))

    def scores(self, raw: np.ndarray) -> np.ndarray:
        """(frames, pixels) int64 scores of a raw stream (frames, pixels); 0 before the
        first full window."""
        raw = np.asarray(raw, np.int64)
        frames, pixels = raw.shape
        out = np.zeros((frames, pixels), np.int64)
        if frames >= self.length:
            series = np.ascontiguousarray(raw.T, dtype=np.int32)
            codes = window_codes(series, self.preprocessing, self.length)
            windows = codes.shape[1]
            acc = self.golden.predict_int(codes.reshape(pixels * windows, self.length))
            out[self.length - 1 :] = acc.reshape(pixels, windows).T
        return out

    def expected(
        self, raw: np.ndarray, thresholds: np.ndarray, mask: np.ndarray | None = None
    ) -> Expected:
        """Every output of a stream; ``thresholds[t]``: the threshold during frame ``t``;
        ``mask`` (pixels,): pixels that never trigger (nonzero)."""
        score = self.scores(raw)
        valid = np.arange(len(raw)) >= self.length - 1
        trigger = (score > np.asarray(thresholds, np.int64)[:, None]) & valid[:, None]
        if mask is not None:
            trigger &= ~np.asarray(mask, bool)[None, :]
        return Expected(valid, score, trigger, trigger.sum(axis=1))
