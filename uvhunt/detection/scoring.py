"""Every pixel's sliding windows of a movie scored by the integer golden model: what the
firmware computes, one window per pixel per frame, streamed block by block.

The score of pixel (r, c) at frame ``t`` is the golden model's last accumulator (int32) for
the window of frames ``[t - length + 1, t]`` (the decision the trigger can take when frame
``t`` arrives); frames before the first full window hold ``NO_WINDOW``. The logit is
``score × 2**output_exponent``.
"""

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from uvhunt.euso.geometry import N_SIDE
from uvhunt.euso.readers import Movie
from uvhunt.quant.golden import GoldenMLP
from uvhunt.quant.preprocess import Preprocessing, raw_counts

NO_WINDOW = np.iinfo(np.int32).min
"""Score of the frames before a pixel's first full window."""
BLOCK_FRAMES = 96
"""Window end frames scored per block: 96 × 2,304 windows, about 40 MB of inputs."""
WORKERS = 2
"""Threads scoring a block's pixels (the reference machine has 2 cores)."""


@dataclass(frozen=True)
class ScoreBlock:
    first: int
    """Frame index of ``scores[0]``."""
    scores: np.ndarray
    """(frames, 48, 48) int32 accumulators (``NO_WINDOW`` before the first full window)."""


def score_movie(
    movie: Movie,
    golden: GoldenMLP,
    preprocessing: Preprocessing,
    length: int,
    on_block: Callable[[int], None] | None = None,
    workers: int = WORKERS,
) -> Iterator[ScoreBlock]:
    """Score every frame of ``movie`` in blocks, in order; ``on_block(frames)`` after each.
    Each block's pixels are split over ``workers`` threads (numpy and BLAS release the GIL)."""
    pixels = N_SIDE * N_SIDE
    parts = np.array_split(np.arange(pixels), workers)
    with ThreadPoolExecutor(workers) as pool:
        for start in range(0, movie.frames, BLOCK_FRAMES):
            stop = min(start + BLOCK_FRAMES, movie.frames)
            scores = np.full((stop - start, pixels), NO_WINDOW, np.int32)
            first_end = max(start, length - 1)
            if first_end < stop:
                raw = raw_counts(movie.read(first_end - length + 1, stop), movie.units)
                series = np.ascontiguousarray(raw.reshape(len(raw), pixels).T, dtype=np.int32)

                def score(part, series=series):
                    codes = window_codes(series[part], preprocessing, length)
                    n, inputs = codes.shape[1:]
                    return golden.predict_int(codes.reshape(len(part) * n, inputs)).reshape(
                        len(part), n
                    )

                for part, acc in zip(parts, pool.map(score, parts), strict=True):
                    scores[first_end - start :, part] = acc.T
            if on_block is not None:
                on_block(stop - start)
            yield ScoreBlock(start, scores.reshape(-1, N_SIDE, N_SIDE))


def score_all(
    movie: Movie,
    golden: GoldenMLP,
    preprocessing: Preprocessing,
    length: int,
    on_block: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Every score of ``movie`` at once: (frames, 48, 48) int32, as ``score_movie`` streams
    them (for session-length movies; an hour is 0.8 GB)."""
    blocks = score_movie(movie, golden, preprocessing, length, on_block)
    return np.concatenate([b.scores for b in blocks])


def window_codes(series: np.ndarray, preprocessing: Preprocessing, length: int) -> np.ndarray:
    """(pixels, windows, inputs) int32 network inputs of every full window of ``series``
    (pixels, frames) int32 raw counts: ``Preprocessing`` applied to each window at once (the
    peak input last, if it gives one)."""
    return preprocessing.series_inputs(series, length)
