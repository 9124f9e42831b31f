"""Per-pixel windows: every pixel's light curve cut into windows of consecutive D3 frames.

One window is ``length`` consecutive frames (48 by default, 1.97 s) of one pixel. Windows
start every ``stride`` frames (the *nominal* windows). With ``center="peak"`` each window
is moved so that the brightest frame of its nominal window sits at index ``length // 2``
(as in the seed study), staying inside the movie; labels are those of the moved window.

**Label rule** (synthetic sessions, which carry the truth): for every frame and pixel the
truth holds the meteor light expected there, ``m``, and the expected counts of everything,
``e`` (both raw D3 counts). Its meteor signal-to-noise is ``m / sqrt(e)``. A window is a
*meteor* (label 1) when the largest meteor signal-to-noise inside it is at least
``label_snr`` (default 3 σ of the Poisson noise); otherwise *not meteor* (0). Movies
without truth (real data) get label -1 (unknown). Each window also records which meteor
(event id, magnitude) gave its largest meteor signal, and the class of the strongest other
source in it (lightning, ELVE, city, ship, hot pixel) when that adds at least
``confuser_snr`` σ.

Windows are written in blocks, never holding a whole session's windows in memory.
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from uvhunt.euso.events import KIND_CODE, NO_KIND, EventRecord
from uvhunt.euso.geometry import N_PIXELS
from uvhunt.euso.readers import Movie
from uvhunt.euso.session import Truth

CENTRES = ("none", "peak")
MAX_BLOCK_ELEMENTS = 4_000_000
"""Window values processed at once (bounds memory)."""


@dataclass(frozen=True)
class WindowConfig:
    length: int = 48
    """Frames per window."""
    stride: int = 48
    """Frames between the nominal starts of consecutive windows of a pixel."""
    center: str = "none"
    """"none", or "peak": move each window so its nominal window's brightest frame is at
    index length // 2."""
    label_snr: float = 3.0
    """Meteor if the window's largest meteor signal-to-noise is at least this (σ)."""
    confuser_snr: float = 1.0
    """A non-meteor source is named in the window when it adds at least this (σ)."""
    negative_fraction: float = 1.0
    """Fraction of not-meteor (label 0) windows kept, uniformly at random; meteor and
    unlabelled windows are all kept."""
    seed: int = 0
    """Seeds the choice of kept negatives."""

    def validate(self) -> "WindowConfig":
        if self.length < 2:
            raise ValueError(f"window length must be >= 2 frames (got {self.length})")
        if self.stride < 1:
            raise ValueError(f"stride must be >= 1 frame (got {self.stride})")
        if self.center not in CENTRES:
            raise ValueError(f"center must be one of {CENTRES} (got {self.center!r})")
        if not 0.0 < self.negative_fraction <= 1.0:
            raise ValueError("negative_fraction must be in (0, 1]")
        for name in ("label_snr", "confuser_snr"):
            if not 0 < getattr(self, name) < float("inf"):
                raise ValueError(f"{name} must be a positive number (got {getattr(self, name)})")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0 (got {self.seed})")
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    def nominal_count(self, frames: int) -> int:
        """Windows per pixel in a movie of ``frames`` frames (before negatives are dropped)."""
        return 0 if frames < self.length else (frames - self.length) // self.stride + 1


@dataclass
class WindowBlock:
    """A block of windows. ``values`` (N, length) float32 in the movie's units."""

    values: np.ndarray
    row: np.ndarray
    col: np.ndarray
    start: np.ndarray
    """First frame of each window."""
    label: np.ndarray
    """1 meteor, 0 not meteor, -1 unknown (no truth)."""
    meteor_snr: np.ndarray
    meteor_event: np.ndarray
    """Event id of the meteor with the largest signal in the window, -1 if none."""
    meteor_magnitude: np.ndarray
    confuser: np.ndarray
    """Kind code (``euso.events.KINDS``) of the strongest other source, -1 if none."""

    COLUMNS = (
        "row",
        "col",
        "start",
        "label",
        "meteor_snr",
        "meteor_event",
        "meteor_magnitude",
        "confuser",
    )
    DTYPES = (np.uint8, np.uint8, np.int32, np.int8, np.float32, np.int32, np.float32, np.int8)

    def __len__(self) -> int:
        return len(self.values)

    def select(self, mask: np.ndarray) -> "WindowBlock":
        return WindowBlock(self.values[mask], *(getattr(self, c)[mask] for c in self.COLUMNS))


class _TruthIndex:
    """Truth entries sorted by frame, with per-entry signal-to-noise, for block look-ups."""

    def __init__(self, truth: Truth, events: list[EventRecord]):
        kind = np.array([KIND_CODE[e.kind] for e in events], dtype=np.int8)
        order = np.argsort(truth.frame, kind="stable")
        self.frame = truth.frame[order]
        self.pixel = truth.row[order].astype(np.int32) * 48 + truth.col[order]
        self.event = truth.event[order]
        self.kind = kind[self.event] if len(kind) else np.zeros(0, np.int8)
        expected = np.maximum(truth.expected[order], 1e-9)
        self.snr = (truth.counts[order] / np.sqrt(expected)).astype(np.float32)
        self.magnitude = np.array([e.magnitude for e in events], dtype=np.float32)

    def dense(self, f0: int, f1: int, meteor: bool):
        """(f1-f0, 2304) largest SNR and its event id (meteor) or kind code (others)."""
        lo, hi = np.searchsorted(self.frame, [f0, f1])
        sel = slice(lo, hi)
        is_meteor = self.kind[sel] == KIND_CODE["meteor"]
        keep = is_meteor if meteor else ~is_meteor
        index = (self.frame[sel][keep] - f0).astype(np.int64) * N_PIXELS + self.pixel[sel][keep]
        snr = self.snr[sel][keep]
        tag = self.event[sel][keep] if meteor else self.kind[sel][keep]
        best_snr = np.zeros((f1 - f0) * N_PIXELS, np.float32)
        best_tag = np.full((f1 - f0) * N_PIXELS, -1, np.int32)
        if index.size:
            order = np.lexsort((snr, index))
            index, snr, tag = index[order], snr[order], tag[order]
            last = np.r_[index[1:] != index[:-1], True]
            best_snr[index[last]] = snr[last]
            best_tag[index[last]] = tag[last]
        shape = (f1 - f0, N_PIXELS)
        return best_snr.reshape(shape), best_tag.reshape(shape)


def iter_windows(movie: Movie, config: WindowConfig, progress: Callable[[int], None] | None = None):
    """Yield ``WindowBlock``s of every pixel's windows of ``movie``, in time order.

    ``progress(n)`` is called with the number of nominal window starts done per block.
    """
    config.validate()
    n_starts = config.nominal_count(movie.frames)
    length, half = config.length, config.length // 2
    truth = _TruthIndex(movie.truth, movie.events) if movie.labelled else None
    rng = np.random.default_rng([config.seed, movie.identity])
    per_block = max(1, MAX_BLOCK_ELEMENTS // (N_PIXELS * max(length, config.stride)))
    for first in range(0, n_starts, per_block):
        nominal = np.arange(first, min(n_starts, first + per_block)) * config.stride
        lo = max(0, int(nominal[0]) - (half if config.center == "peak" else 0))
        hi = min(movie.frames, int(nominal[-1]) + length + (half if config.center == "peak" else 0))
        data = movie.read(lo, hi).reshape(hi - lo, N_PIXELS)
        pixel = np.tile(np.arange(N_PIXELS), len(nominal))
        start = np.repeat(nominal, N_PIXELS)
        if config.center == "peak":
            offsets = start[:, None] - lo + np.arange(length)
            peak = start + np.argmax(data[offsets, pixel[:, None]], axis=1)
            start = np.clip(peak - half, 0, movie.frames - length)
        frames = start[:, None] - lo + np.arange(length)
        values = data[frames, pixel[:, None]]
        block = _label(values, pixel, start, frames, lo, hi, truth, config)
        if config.negative_fraction < 1.0:
            keep = (block.label != 0) | (rng.random(len(block)) < config.negative_fraction)
            block = block.select(keep)
        if progress:
            progress(len(nominal))
        yield block


def _label(
    values, pixel, start, frames, lo, hi, truth: _TruthIndex | None, config: WindowConfig
) -> WindowBlock:
    n = len(values)
    row, col = (pixel // 48).astype(np.uint8), (pixel % 48).astype(np.uint8)
    if truth is None:
        return WindowBlock(
            values,
            row,
            col,
            start.astype(np.int32),
            np.full(n, -1, np.int8),
            np.zeros(n, np.float32),
            np.full(n, -1, np.int32),
            np.full(n, np.nan, np.float32),
            np.full(n, NO_KIND, np.int8),
        )
    m_snr, m_event = truth.dense(lo, hi, meteor=True)
    o_snr, o_kind = truth.dense(lo, hi, meteor=False)
    col_index = pixel[:, None]
    window_m = m_snr[frames, col_index]
    best = np.argmax(window_m, axis=1)
    meteor_snr = window_m[np.arange(n), best]
    meteor_event = np.where(meteor_snr > 0, m_event[frames[np.arange(n), best], pixel], -1)
    magnitude = np.full(n, np.nan, np.float32)
    magnitude[meteor_event >= 0] = truth.magnitude[meteor_event[meteor_event >= 0]]
    window_o = o_snr[frames, col_index]
    best_o = np.argmax(window_o, axis=1)
    other_snr = window_o[np.arange(n), best_o]
    confuser = np.where(
        other_snr >= config.confuser_snr, o_kind[frames[np.arange(n), best_o], pixel], NO_KIND
    )
    return WindowBlock(
        values,
        row,
        col,
        start.astype(np.int32),
        (meteor_snr >= config.label_snr).astype(np.int8),
        meteor_snr.astype(np.float32),
        meteor_event.astype(np.int32),
        magnitude.astype(np.float32),
        confuser.astype(np.int8),
    )
