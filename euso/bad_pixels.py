"""Find dead and hot pixels from a movie's statistics, for a pixel mask.

The rule, in raw D3 counts per frame (a ``per_gtu`` movie is scaled by 16,384 first):

1. **Level.** The movie is cut into blocks of ``BLOCK_FRAMES`` frames (read one block at a
   time); a pixel's level is the median over the blocks of its mean in each block. A hot
   pixel is bright in every block; a city light, a meteor or lightning only in a few, so the
   median keeps them out (a plain mean over a short movie makes a pixel a drifting light
   crossed look hot).
2. **Dead.** A level below ``DEAD_FRACTION`` of the median level of the focal surface.
3. **Hot.** The ratio of a pixel's level to its reference, the median level of the live
   pixels of the same PMT within ``NEIGHBOUR_RADIUS`` rows and columns (PMT gains differ, and
   the scene varies across the focal surface, so a pixel is judged against its neighbours).
   The ratio's robust spread over the focal surface is σ = 1.4826 × the median absolute
   deviation from the median ratio (at least ``MIN_SPREAD``); a pixel is hot when its ratio
   exceeds the median ratio by more than ``HOT_SIGMAS`` σ.

On the nine default simulated sessions (4,096 frames each) it found all 84 dead pixels (one
switched-off PMT among them) and 22 of the 23 hot pixels (the one missed adds 0.55 counts per
GTU to a bright background), and one other pixel (σ of the ratio 0.05–0.09). On eight shorter
sessions (512 and 1,024 frames, 4 hot and 5 dead pixels each): all 40 dead and 32 hot pixels,
and two others. Longer blocks make it worse on short movies (at 128 frames, up to 43 other
pixels in 512 frames: bright scene edges smeared along the drift stand out).
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from uvhunt.euso.geometry import N_SIDE, pmt_map
from uvhunt.euso.pixel_mask import PixelMask
from uvhunt.euso.readers import Movie
from uvhunt.euso.units import to_raw

BLOCK_FRAMES = 32
"""Frames per block of the level (1.3 s)."""
DEAD_FRACTION = 0.1
"""Dead: a level below this fraction of the focal surface's median level."""
NEIGHBOUR_RADIUS = 2
"""Rows and columns around a pixel (same PMT) whose median level is its reference."""
HOT_SIGMAS = 6.0
"""Hot: a ratio to the reference more than this many σ above 1."""
MIN_SPREAD = 0.01
"""The smallest σ of the ratio used (a very uniform focal surface)."""


@dataclass(frozen=True)
class BadPixels:
    """What ``find_bad_pixels`` found."""

    level: np.ndarray
    """(48, 48) float: each pixel's level, raw D3 counts per frame."""
    ratio: np.ndarray
    """(48, 48) float: level over the neighbours' reference (NaN for dead pixels)."""
    spread: float
    """Robust σ of the ratio over the live pixels."""
    dead: np.ndarray
    """(48, 48) bool."""
    hot: np.ndarray
    """(48, 48) bool."""

    def mask(self, source: str) -> PixelMask:
        return PixelMask(
            self.dead | self.hot,
            source,
            {
                "dead": int(self.dead.sum()),
                "hot": int(self.hot.sum()),
                "rule": RULE,
                "ratio_spread": round(self.spread, 4),
                "median_level_raw_per_frame": float(np.median(self.level)),
            },
        )


RULE = (
    f"level = median over {BLOCK_FRAMES}-frame blocks of the pixel's mean (raw D3 counts per "
    f"frame); dead: level < {DEAD_FRACTION:g} × the focal surface's median level; hot: level / "
    f"(median level of the live same-PMT pixels within {NEIGHBOUR_RADIUS}) above the median "
    f"ratio by more than {HOT_SIGMAS:g} σ (σ: 1.4826 × MAD of the ratio over the focal surface)"
)


def pixel_levels(
    movie: Movie, block_frames: int = BLOCK_FRAMES, on_block: Callable[[int], None] | None = None
) -> np.ndarray:
    """(48, 48) float64: the median over blocks of each pixel's block mean, raw counts per
    frame. A last block shorter than half a block is left out (unless it is the only one).
    ``on_block(frames)`` after each block read."""
    means = []
    for f0 in range(0, movie.frames, block_frames):
        f1 = min(movie.frames, f0 + block_frames)
        if not means or f1 - f0 >= block_frames // 2:
            raw = to_raw(movie.read(f0, f1), movie.units)
            means.append(raw.mean(axis=0, dtype=np.float64))
        if on_block is not None:
            on_block(f1 - f0)
    return np.median(np.stack(means), axis=0)


def find_bad_pixels(movie: Movie, on_block: Callable[[int], None] | None = None) -> BadPixels:
    """Dead and hot pixels of ``movie`` by the rule of the module docstring; ``on_block`` as
    for ``pixel_levels``."""
    level = pixel_levels(movie, on_block=on_block)
    dead = level < DEAD_FRACTION * np.median(level)
    reference = neighbour_reference(level, dead)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(dead | ~(reference > 0), np.nan, level / reference)
    live = np.isfinite(ratio)
    centre, spread = 1.0, MIN_SPREAD
    if live.any():
        centre = float(np.median(ratio[live]))
        spread = max(MIN_SPREAD, 1.4826 * float(np.median(np.abs(ratio[live] - centre))))
    hot = live & (np.nan_to_num(ratio, nan=centre) - centre > HOT_SIGMAS * spread)
    return BadPixels(level, ratio, spread, dead, hot)


def find_mask(movie: Movie, on_block: Callable[[int], None] | None = None) -> PixelMask:
    """The mask of ``movie``'s dead and hot pixels."""
    return find_bad_pixels(movie, on_block).mask(f"found in {Path(movie.path)}")


def neighbour_reference(level: np.ndarray, dead: np.ndarray) -> np.ndarray:
    """(48, 48): the median level of each pixel's live neighbours in its own PMT within
    ``NEIGHBOUR_RADIUS`` (itself left out); NaN where it has none."""
    r = NEIGHBOUR_RADIUS
    pmt = np.pad(pmt_map(), r, constant_values=-1)
    values = np.pad(np.where(dead, np.nan, level), r, constant_values=np.nan)
    own = pmt[r : r + N_SIDE, r : r + N_SIDE]
    around = []
    for dr in range(-r, r + 1):
        for dc in range(-r, r + 1):
            if dr == 0 and dc == 0:
                continue
            rows, cols = slice(r + dr, r + dr + N_SIDE), slice(r + dc, r + dc + N_SIDE)
            around.append(np.where(pmt[rows, cols] == own, values[rows, cols], np.nan))
    stack = np.stack(around)
    reference = np.full(level.shape, np.nan)
    some = np.isfinite(stack).any(axis=0)
    reference[some] = np.nanmedian(stack[:, some], axis=0)
    return reference
