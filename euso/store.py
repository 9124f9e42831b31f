"""Session folders on disk: what ``uvhunt simulate`` writes and ``uvhunt windows`` reads.

One folder per session::

    session.json     seed, config, conditions, units ("raw"), event counts
    movie.npy        (frames, 48, 48) uint32, raw D3 counts (sum over 16,384 GTUs)
    timestamps.npy   (frames,) float64, unix time of each frame's start, s
    truth.npz        expected light of every event per (frame, row, col) — see ``Truth``
    events.csv       one row per event — see ``EventRecord``
    detector.npz     efficiency (48×48), hot_rate (48×48, raw counts per frame)
"""

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from uvhunt._core.atomic import atomic_dir, write_json
from uvhunt._core.errors import UvhuntError
from uvhunt.euso.events import EventRecord
from uvhunt.euso.geometry import N_SIDE
from uvhunt.euso.npy_writer import GrowingNpy
from uvhunt.euso.session import SessionSimulator, Truth

SESSION_FILES = (
    "session.json",
    "movie.npy",
    "timestamps.npy",
    "truth.npz",
    "events.csv",
    "detector.npz",
)


def write_session(
    sim: SessionSimulator, folder: Path, progress: Callable[[int], None] | None = None
) -> dict:
    """Render ``sim`` into ``folder`` (replaced atomically); returns session.json's content.

    ``progress(n)`` is called after every block with the number of frames just written.
    """
    with atomic_dir(Path(folder)) as tmp:
        movie = GrowingNpy(tmp / "movie.npy", np.uint32, (N_SIDE, N_SIDE))
        truth_parts = []
        peak = np.zeros(len(sim.events))
        try:
            for chunk in sim.chunks():
                movie.append(chunk.counts)
                truth_parts.append(chunk.truth)
                if len(chunk.truth):
                    np.maximum.at(peak, chunk.truth.event, chunk.truth.counts)
                if progress:
                    progress(len(chunk.counts))
        finally:
            movie.close()
        truth = Truth.concatenate(truth_parts)
        np.savez(tmp / "truth.npz", **{c: getattr(truth, c) for c in Truth.COLUMNS})
        np.save(tmp / "timestamps.npy", sim.timestamps())
        np.savez(
            tmp / "detector.npz", efficiency=sim.detector.efficiency, hot_rate=sim.detector.hot_rate
        )
        for event, value in zip(sim.events, peak, strict=True):
            event.peak_pixel_counts = float(value)
        write_events(tmp / "events.csv", sim.events)
        meta = sim.describe()
        write_json(tmp / "session.json", meta)
    return meta


def write_events(path: Path, events: list[EventRecord]) -> None:
    names = [f.name for f in fields(EventRecord)]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=names)
        writer.writeheader()
        for event in events:
            writer.writerow(event.to_dict())


def read_events(path: Path) -> list[EventRecord]:
    types = {f.name: f.type for f in fields(EventRecord)}
    with open(path, newline="") as f:
        return [
            EventRecord(**{k: types[k](v) for k, v in row.items()}) for row in csv.DictReader(f)
        ]


@dataclass
class StoredSession:
    """A session folder opened for reading (the movie is memory-mapped)."""

    folder: Path
    meta: dict
    movie: np.ndarray
    timestamps: np.ndarray
    truth: Truth
    events: list[EventRecord]
    efficiency: np.ndarray
    hot_rate: np.ndarray

    @property
    def name(self) -> str:
        return self.folder.name


def is_session_folder(path: Path) -> bool:
    return Path(path).is_dir() and (Path(path) / "session.json").is_file()


def open_session(folder: Path) -> StoredSession:
    """Open a session folder; a missing or damaged file is named in a ``UvhuntError``."""
    folder = Path(folder)
    missing = [n for n in SESSION_FILES if not (folder / n).is_file()]
    if missing:
        raise UvhuntError(
            f"session folder lacks {', '.join(missing)}",
            path=folder,
            fix="simulate the session again to write it complete",
        )

    def read(name: str, load):
        try:
            return load(folder / name)
        except UvhuntError:
            raise
        except Exception as exc:  # json, numpy, zip and csv raise many kinds on damage
            raise UvhuntError(
                f"{name} is damaged ({type(exc).__name__}: {exc})",
                path=folder / name,
                fix="simulate the session again",
            ) from exc

    meta = read("session.json", lambda p: dict(json.loads(p.read_text())))
    movie = read("movie.npy", _load_movie)
    truth = read("truth.npz", _load_truth)
    efficiency, hot_rate = read("detector.npz", _load_detector)
    timestamps = read("timestamps.npy", lambda p: np.load(p, allow_pickle=False))
    events = read("events.csv", read_events)
    if len(truth) and int(truth.event.max()) >= len(events):
        raise UvhuntError(
            "truth.npz names events that events.csv lacks",
            path=folder,
            fix="simulate the session again",
        )
    return StoredSession(folder, meta, movie, timestamps, truth, events, efficiency, hot_rate)


def _load_movie(path: Path) -> np.ndarray:
    movie = np.load(path, mmap_mode="r", allow_pickle=False)
    if movie.ndim != 3 or movie.shape[1:] != (N_SIDE, N_SIDE):
        raise ValueError(f"shape {movie.shape}, expected (frames, 48, 48)")
    return movie


def _load_truth(path: Path) -> Truth:
    with np.load(path, allow_pickle=False) as z:
        truth = Truth(*(z[c] for c in Truth.COLUMNS))
    if len({len(getattr(truth, c)) for c in Truth.COLUMNS}) != 1:
        raise ValueError("columns differ in length")
    return truth


def _load_detector(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return z["efficiency"], z["hot_rate"]
