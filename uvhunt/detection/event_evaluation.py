"""The event level of the leave-one-session-out evaluation: per fold, the held-out session's
whole movie scanned (every pixel's sliding window at every frame, as ``uvhunt detect`` does)
by the fold's QAT MLP, its best baseline and the conventional trigger; detections grouped
into events and matched to the truth (``event_quality``); an operating threshold set on the
fold's training sessions and applied to the held-out one; an event-level ROC on it.

- **QAT MLP**: the fold's brevitas model is exported to QONNX and read back as the integer
  golden model (``quant.golden``), the export stage's path; it must equal brevitas on the
  fold's test windows, bit for bit. The held-out session is scored by ``scoring.score_movie``.
- **Baseline**: ``BASELINE`` (the best mean window AUC of the default run), on the same
  windows, block by block; XGBoost scores are its margin (log-odds), which orders windows as
  its probability does without float32 ties at 1.0.
- **Peak-gated trigger** (``peak_gate``): nothing learned, so its scores are computed once per
  session, like the conventional trigger's candidates; only its threshold comes from the
  fold's training sessions.
- **Conventional trigger**: its settings (``SUM_FRAMES`` × ``BACKGROUND_FRAMES``) are tuned on
  the fold's training sessions only: the setting that catches the most meteors there at the
  operating false-event rate (ties: fewer false events, then the grid's order).

The operating threshold of each method is ``event_quality.threshold_for_false_rate`` over the
training sessions' highest ``CANDIDATES_PER_SESSION`` pixel-frames, as the export sets the
final model's. The QAT MLP and the conventional trigger score the training sessions whole.
Scanning eight training sessions whole with XGBoost would cost minutes per fold, so there it
scores only each session's ``CANDIDATE_FRACTION`` of windows the QAT MLP scores highest. On
the held-out session every method scores everything, and ``candidate_check`` counts the
baseline's windows above its threshold that the candidate rule would have dropped.

Every method is counted from the same frame, the first where every setting of the
conventional trigger has a score.
"""

import math
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from numpy.lib.stride_tricks import sliding_window_view

from uvhunt._core.errors import UvhuntError
from uvhunt._core.progress import ProgressFactory, no_progress
from uvhunt.detection.conventional import ConventionalTrigger, running_sum
from uvhunt.detection.event_quality import (
    detections,
    fast_outcome,
    quality,
    threshold_for_false_rate,
    top_detections,
)
from uvhunt.detection.events import Detections
from uvhunt.detection.operating_point import (
    CANDIDATES_PER_SESSION,
    DEFAULT_FALSE_EVENTS_PER_HOUR,
)
from uvhunt.detection.peak_gate import PeakGateTrigger
from uvhunt.detection.scoring import BLOCK_FRAMES, score_movie
from uvhunt.euso.geometry import N_SIDE
from uvhunt.euso.readers import open_movie
from uvhunt.euso.window_store import open_window_dataset
from uvhunt.quant.baselines import feature_matrix
from uvhunt.quant.chain import as_integers
from uvhunt.quant.config import ModelConfig
from uvhunt.quant.evaluation import FoldModels
from uvhunt.quant.golden import GoldenMLP
from uvhunt.quant.preprocess import (
    Preprocessing,
    float_residual,
    float_series_residual,
    movie_raw_counts,
    movie_series,
)
from uvhunt.quant.qonnx_io import export_qonnx_model

BASELINE = "xgboost/both"
"""The baseline scanned: the best mean window ROC AUC of the default nine-fold run
(docs/quantization.md), fixed beforehand since the best is known only after every fold."""
METHODS = ("qat_mlp", BASELINE, "peak_gate", "conventional")
EVENT_RATES = (3.0, 10.0, 30.0, 100.0, 300.0, 1000.0)
"""False events per hour of the event-level ROC (thresholds set on each held-out scan)."""
SUM_FRAMES = (2, 4, 8, 16)
"""The conventional trigger's moving-sum lengths tried, D3 frames."""
BACKGROUND_FRAMES = (32, 128)
"""Its running-background lengths tried, D3 frames."""
CANDIDATE_FRACTION = 0.01
"""Windows of a training session the baseline scores for its operating threshold: the QAT
MLP's highest, this fraction of the session's windows (ties at the edge included)."""
THRESHOLD_UNITS = {
    "qat_mlp": "golden-model score (integer accumulator)",
    BASELINE: "XGBoost margin (log-odds)",
    "peak_gate": "2**8 z², z: 5-frame peak over the window's spread (integer inputs)",
    "conventional": "significance (Poisson σ)",
}


def conventional_grid() -> list[ConventionalTrigger]:
    return [ConventionalTrigger(f, b).validate() for b in BACKGROUND_FRAMES for f in SUM_FRAMES]


def first_scored_frame(length: int) -> int:
    """The first frame counted for every method: where the network and every conventional
    setting have a score."""
    return max(length, *(t.history for t in conventional_grid())) - 1


def tune_conventional(
    sessions: list[tuple[list[Detections], list, int]], per_hour: float, first: int
) -> tuple[int, list[dict]]:
    """The setting of ``conventional_grid`` catching the most meteors at ``per_hour`` false
    events per hour over ``sessions`` (each: every setting's candidates, the truth, the frame
    count), ties to fewer false events per hour, then the grid's order; with every setting's
    figures there."""
    rows = []
    for i, trigger in enumerate(conventional_grid()):
        parts = [(c[i], events, frames) for c, events, frames in sessions]
        threshold, figures = threshold_for_false_rate(parts, per_hour, trigger.frames, first)
        rows.append(
            {
                **trigger.to_dict(),
                "threshold": threshold,
                "false_events_per_hour": figures["false_events_per_hour"],
                "meteors_caught": figures["meteors_caught"],
                "meteors": figures["meteors"],
            }
        )
    best = min(
        range(len(rows)),
        key=lambda i: (-rows[i]["meteors_caught"], rows[i]["false_events_per_hour"], i),
    )
    return best, rows


def conventional_top(raw: np.ndarray, first: int) -> list[Detections]:
    """Each conventional setting's highest pixel-frames of a raw movie (frames, 48, 48), from
    ``first`` on."""
    running = running_sum(raw)
    return [
        top_detections(trigger.significance(raw, running), CANDIDATES_PER_SESSION, first)
        for trigger in conventional_grid()
    ]


def trigger_candidates(movie_path: Path, first: int, out: Path, config: ModelConfig) -> None:
    """Each conventional setting's highest pixel-frames of one session (from ``first`` on),
    and the peak-gated trigger's, saved to ``out`` (.npz): computed once for all folds, since
    neither trigger learns anything."""
    raw = movie_raw_counts(open_movie(Path(movie_path)))
    found = conventional_top(raw, first)
    gate = PeakGateTrigger(config.length).codes(raw, config.preprocessing)
    found.append(top_detections(gate, CANDIDATES_PER_SESSION, first))
    arrays = {
        f"{i}_{k}": getattr(top, k)
        for i, top in enumerate(found)
        for k in ("frame", "row", "col", "score")
    }
    np.savez(out, **arrays)


def _load_candidates(path: Path) -> tuple[list[Detections], Detections]:
    """The conventional settings' candidates and the peak-gated trigger's."""
    with np.load(path) as data:
        found = [
            Detections(*(data[f"{i}_{k}"] for k in ("frame", "row", "col", "score")))
            for i in range(len(conventional_grid()) + 1)
        ]
    return found[:-1], found[-1]


def fold_golden(quant_model, config: ModelConfig) -> GoldenMLP:
    """The fold's integer golden model, through a QONNX export as the export stage makes it."""
    with tempfile.TemporaryDirectory(prefix="uvhunt-fold-") as tmp:
        path = export_qonnx_model(quant_model, config, Path(tmp) / "model.onnx")
        return GoldenMLP.from_qonnx(path).compile()


def _candidates(qat_scores: np.ndarray, first: int) -> Detections:
    """The windows the baseline scores on a training session: the QAT MLP's highest
    ``CANDIDATE_FRACTION`` of the session's windows (from ``first`` on, ties included)."""
    count = math.ceil(CANDIDATE_FRACTION * qat_scores[first:].size)
    return top_detections(qat_scores, count, first)


SCAN_THREADS = 2
"""Threads of a fold's whole-session scans (QAT MLP and baseline), each on its share of the
pixels with one BLAS thread: while the folds fill the cores they only take turns (they wait
on a lock, not in a spin), and the last fold, alone at the end of the evaluation, scans on
both cores. The scores do not depend on the count. XGBoost's prediction is thread-safe
since 1.4 (its own tests predict from ten threads at once)."""


def qat_scan(movie, golden: GoldenMLP, config: ModelConfig, workers: int | None = None):
    """Every window of a session scored as ``uvhunt detect`` does: (frames, 48, 48) int32, on
    ``workers`` threads (default ``SCAN_THREADS``)."""
    threads = SCAN_THREADS if workers is None else workers
    blocks = score_movie(movie, golden, config.preprocessing, config.length, workers=threads)
    return np.concatenate([b.scores for b in blocks])


def _windows(series: np.ndarray, frame: np.ndarray, pixel: np.ndarray, length: int):
    """Raw windows (N, length) of ``series`` (pixels, frames) ending at ``frame``."""
    return sliding_window_view(series, length, axis=1)[pixel, frame - length + 1]


def baseline_scores(entry: tuple, windows: np.ndarray, p: Preprocessing) -> np.ndarray:
    """A fitted baseline's scores (float64) on raw windows (N, length): XGBoost's margin,
    the others' meteor probability."""
    return _scores_of_residual(entry, float_residual(windows, "raw", p))


def _scores_of_residual(entry: tuple, residual: np.ndarray) -> np.ndarray:
    model, kind = entry[0], entry[1]
    x = feature_matrix(residual, kind)
    if hasattr(model, "get_booster"):
        return np.asarray(model.predict(x, output_margin=True), np.float64)
    return model.predict_proba(x)[:, 1].astype(np.float64)


def _blocked(score, windows: np.ndarray, p: Preprocessing) -> np.ndarray:
    block = BLOCK_FRAMES * N_SIDE * N_SIDE
    parts = [score(windows[i : i + block], p) for i in range(0, len(windows), block)]
    return np.concatenate(parts) if parts else np.zeros(0)


def baseline_scan(entry: tuple, series: np.ndarray, p: Preprocessing, length: int):
    """Every window of a movie scored by a baseline, block by block (``BLOCK_FRAMES`` end
    frames at a time, the pixels split over ``SCAN_THREADS``): (frames, 48, 48) float32, NaN
    before the first full window."""
    pixels, frames = series.shape
    out = np.full((frames, pixels), np.nan, np.float32)
    parts = np.array_split(np.arange(pixels), SCAN_THREADS)

    def score(part, start, stop):
        residual = float_series_residual(series[part, start - length + 1 : stop], length, p)
        out[start:stop, part] = _scores_of_residual(entry, residual).reshape(-1, stop - start).T

    with ThreadPoolExecutor(SCAN_THREADS) as pool:
        for start in range(length - 1, frames, BLOCK_FRAMES):
            stop = min(start + BLOCK_FRAMES, frames)
            list(pool.map(score, parts, [start] * len(parts), [stop] * len(parts)))
    return out.reshape(frames, N_SIDE, N_SIDE)


def _top_of(frame, pixel, score, count: int) -> Detections:
    """The ``count`` highest of candidate pixel-frames (ties with the lowest included), in
    frame-major order as ``top_detections`` gives them."""
    if score.size > count:
        lowest = np.partition(score, score.size - count)[score.size - count]
        keep = score >= lowest
        frame, pixel, score = frame[keep], pixel[keep], score[keep]
    row, col = np.divmod(pixel, N_SIDE)
    return Detections(frame.astype(np.int64), row, col, score)


@dataclass(frozen=True)
class EventLevel:
    """The fold hook (``quant.evaluation.evaluate(fold_hook=...)``): picklable, it runs in
    the fold's worker process and returns the fold's event-level figures."""

    movies: tuple[str, ...]
    """Session folder of each data-set source (by source index)."""
    names: tuple[str, ...]
    config: ModelConfig
    candidates: str
    """Folder of ``trigger_candidates`` files, ``<source index>.npz``."""
    per_hour: float = DEFAULT_FALSE_EVENTS_PER_HOUR

    def __call__(self, fold: FoldModels) -> dict:
        start = time.perf_counter()
        config, p, length = self.config, self.config.preprocessing, self.config.length
        first = first_scored_frame(length)
        golden = fold_golden(fold.quant_model, config)
        brevitas = as_integers(fold.test_qat_scores, golden.output_exponent)
        mismatches = int(np.sum(golden.predict_int(fold.test_integer) != brevitas))
        baseline = fold.baselines[BASELINE]
        qat_train, base_train, conv_train, gate_train = [], [], [], []
        for s in fold.training_sessions:
            movie = open_movie(Path(self.movies[s]))
            qat = qat_scan(movie, golden, config)
            qat_train.append(
                (top_detections(qat, CANDIDATES_PER_SESSION, first), movie.events, movie.frames)
            )
            pick = _candidates(qat, first)
            pixel = pick.row * N_SIDE + pick.col
            windows = _windows(movie_series(movie), pick.frame, pixel, length)
            base = _blocked(lambda w, p: baseline_scores(baseline, w, p), windows, p)
            found = _top_of(pick.frame, pixel, base, CANDIDATES_PER_SESSION)
            base_train.append((found, movie.events, movie.frames))
            conv, gate = _load_candidates(Path(self.candidates) / f"{s}.npz")
            conv_train.append((conv, movie.events, movie.frames))
            gate_train.append((gate, movie.events, movie.frames))
        trigger_index, tuning = self._tune(conv_train, first)
        trigger = conventional_grid()[trigger_index]

        movie = open_movie(Path(self.movies[fold.held_out]))
        truth, frames = movie.events, movie.frames
        series = movie_series(movie)
        held = {
            "qat_mlp": qat_scan(movie, golden, config),
            BASELINE: baseline_scan(baseline, series, p, length),
        }
        pick = _candidates(held["qat_mlp"], first)
        mask = np.zeros(held["qat_mlp"].shape, bool)
        mask[pick.frame, pick.row, pick.col] = True
        conv_held, gate_held = _load_candidates(Path(self.candidates) / f"{fold.held_out}.npz")
        methods, check = {}, {}
        # the baseline's training threshold saw only the QAT's candidates: count, on the
        # held-out session scored whole, what that rule would drop above its threshold
        for name, train_parts, group_length in (
            ("qat_mlp", qat_train, length),
            (BASELINE, base_train, length),
            ("peak_gate", gate_train, length),
            ("conventional", [(c[trigger_index], e, f) for c, e, f in conv_train], trigger.frames),
        ):
            threshold, trained = threshold_for_false_rate(
                train_parts, self.per_hour, group_length, first
            )
            if name == "conventional":
                top = conv_held[trigger_index]
                above = _saved_above(
                    top, threshold, first, lambda: trigger.significance(movie_raw_counts(movie))
                )
            elif name == "peak_gate":
                top = gate_held
                above = _saved_above(
                    top,
                    threshold,
                    first,
                    lambda: PeakGateTrigger(length).codes(movie_raw_counts(movie), p),
                )
            else:
                top = top_detections(held[name], CANDIDATES_PER_SESSION, first)
                above = detections(held[name], threshold, first)
            if name == BASELINE:
                check = {
                    "above_threshold": len(above),
                    "outside_candidates": int((~mask[above.frame, above.row, above.col]).sum()),
                }
            held_out = quality(fast_outcome(above, truth, group_length), truth, frames, first)
            curve = []
            for rate in EVENT_RATES:
                at, figures = threshold_for_false_rate(
                    [(top, truth, frames)], rate, group_length, first
                )
                curve.append({"rate": rate, "threshold": at, **figures})
            methods[name] = {
                "threshold": threshold,
                "training": {
                    k: trained[k] for k in ("false_events_per_hour", "meteors", "meteors_caught")
                },
                "held_out": held_out,
                "roc": curve,
            }
        methods["qat_mlp"]["logit"] = math.ldexp(
            methods["qat_mlp"]["threshold"], golden.output_exponent
        )
        return {
            "session": self.names[fold.held_out],
            "first_frame": first,
            "golden_mismatches": mismatches,
            "golden_compared": int(len(fold.test_integer)),
            "conventional_trigger": trigger.to_dict(),
            "conventional_tuning": tuning,
            "methods": methods,
            "candidate_check": check,
            "seconds": round(time.perf_counter() - start, 1),
        }

    def _tune(self, sessions: list, first: int) -> tuple[int, list[dict]]:
        return tune_conventional(sessions, self.per_hour, first)


def _saved_above(
    top: Detections, threshold: float, first: int, whole: Callable[[], np.ndarray]
) -> Detections:
    """A fixed trigger's held-out detections above ``threshold``: from its saved candidates
    ``top`` when they reach that low, else from ``whole()``, its whole score map."""
    if top.score.size and threshold >= float(np.min(top.score)):
        keep = np.asarray(top.score) > threshold
        return Detections(*(np.asarray(a)[keep] for a in (top.frame, top.row, top.col, top.score)))
    return detections(whole(), threshold, first)


def labelled_movies(windows: Path) -> dict[int, Path]:
    """The movie folder of each session of the window data set in ``windows`` that has
    labelled windows, by source index (absolute). UvhuntError when one is missing or has no
    truth."""
    dataset = open_window_dataset(windows)
    sources = dataset.meta["sources"]
    found = {}
    for index in np.unique(np.asarray(dataset.source)[np.asarray(dataset.label) >= 0]):
        path = Path(dataset.source_path(int(index))).resolve()
        movie = open_movie(path) if path.is_dir() else None
        if movie is None or movie.events is None:
            raise UvhuntError(
                f"the event-level evaluation needs session {sources[index]['name']}'s movie "
                f"with its truth at {path}",
                path=windows,
                fix="keep the sessions where they were when the window data set was made "
                "(`uvhunt simulate` writes them), or make the data set again",
            )
        found[int(index)] = path
    return found


def prepare(
    windows: Path,
    config: ModelConfig,
    cache: Path,
    workers: int = 2,
    progress: ProgressFactory | None = None,
) -> EventLevel:
    """The fold hook for the window data set in ``windows``: its sessions' movies (with
    truth) found, and the conventional trigger's candidates of each written into ``cache``
    (``workers`` processes; progress in sessions). UvhuntError when a labelled session's
    movie is missing or has no truth."""
    dataset = open_window_dataset(windows)
    # absolute: the worker processes may have been started in another folder
    sources = dataset.meta["sources"]
    movies = tuple(str(dataset.source_path(i)) for i in range(len(sources)))
    labelled = list(labelled_movies(windows))
    first = first_scored_frame(config.length)
    jobs = (
        delayed(trigger_candidates)(movies[i], first, Path(cache).resolve() / f"{i}.npz", config)
        for i in labelled
    )
    with (progress or no_progress)(len(labelled), "fixed triggers", "session") as bar:
        for _ in Parallel(n_jobs=workers, return_as="generator")(jobs):
            bar.update(1)
    return EventLevel(movies, tuple(s["name"] for s in sources), config, str(Path(cache).resolve()))
