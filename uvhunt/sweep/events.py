"""A sweep point's event level, fold by fold, for its QAT MLP only (the event level of
``uvhunt evaluate``, without the baselines): the fold's model exported to QONNX and read back
as the golden model; its training sessions scanned whole, as ``uvhunt detect`` scans a movie,
for the threshold that leaves ``per_hour`` false events per hour there; the held-out sessions
scanned whole at that threshold, their detections grouped into events and matched to the
truth. The folds' held-out figures add up to the point's (``combined``)."""

from pathlib import Path

from uvhunt.detection.event_evaluation import first_scored_frame, fold_golden, qat_scan
from uvhunt.detection.event_quality import (
    combined,
    detections,
    fast_outcome,
    quality,
    threshold_for_false_rate,
    top_detections,
)
from uvhunt.detection.operating_point import CANDIDATES_PER_SESSION
from uvhunt.euso.readers import open_movie
from uvhunt.quant.config import ModelConfig

BRIGHT = 5.0
"""Meteors brighter than this magnitude: the issue's 90% class."""


def fold_events(
    quant_model,
    config: ModelConfig,
    movies: dict[int, Path],
    training: list[int],
    held_out: list[int],
    per_hour: float,
) -> dict:
    """The held-out sessions' combined event quality (``event_quality.combined``) at the
    threshold set on the ``training`` sessions, plus ``threshold`` (golden-model score).
    ``movies``: each session's movie folder (with truth) by data-set source index."""
    golden = fold_golden(quant_model, config)
    first = first_scored_frame(config.length)

    def scan(source: int):  # one thread: the sweep's workers already fill the cores
        movie = open_movie(movies[source])
        return qat_scan(movie, golden, config, workers=1), movie.events, movie.frames

    trained = []
    for source in training:
        scores, truth, frames = scan(source)
        trained.append((top_detections(scores, CANDIDATES_PER_SESSION, first), truth, frames))
    threshold, _ = threshold_for_false_rate(trained, per_hour, config.length, first)
    parts = []
    for source in held_out:
        scores, truth, frames = scan(source)
        above = detections(scores, threshold, first)
        parts.append(quality(fast_outcome(above, truth, config.length), truth, frames, first))
    return {"threshold": float(threshold), **combined(parts)}


def point_figures(folds: list[dict]) -> dict:
    """The sweep table's event columns from the folds' ``fold_events``: false events per hour
    of held-out data, and the fractions of meteors in view caught (all, brighter than +5,
    +5…+6); None where a class has no meteor."""
    total = combined(folds)

    def caught(rows: list[dict]):
        meteors = sum(r["meteors"] for r in rows)
        return sum(r["caught"] for r in rows) / meteors if meteors else None

    bins = total["by_magnitude"]
    low = [float(r["magnitude"].split("…")[0]) for r in bins]
    bright = [r for r, m in zip(bins, low, strict=True) if m < BRIGHT]
    faint = [r for r, m in zip(bins, low, strict=True) if m == BRIGHT]
    return {
        "event_hours": total["hours"],
        "event_false_per_hour": total["false_events_per_hour"],
        "event_meteors": total["meteors"],
        "event_efficiency": caught(bins),
        "event_efficiency_brighter_5": caught(bright),
        "event_efficiency_5_6": caught(faint),
    }
