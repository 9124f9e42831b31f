"""Window data sets on disk: what ``uvhunt windows`` writes and training reads.

A data set is a folder of equally long .npy columns (one row per window)::

    values.npy           (N, length) float32 — the pixel's D3 values, in the data set's units
    source.npy           (N,) int32 — index into sources in dataset.json
    row.npy, col.npy     (N,) uint8 — pixel
    start.npy            (N,) int32 — first frame of the window
    label.npy            (N,) int8 — 1 meteor, 0 not meteor, -1 unknown
    meteor_snr.npy       (N,) float32 — largest meteor signal-to-noise in the window (σ)
    meteor_event.npy     (N,) int32 — event id of that meteor in its session, -1 if none
    meteor_magnitude.npy (N,) float32 — its absolute magnitude, NaN if none
    confuser.npy         (N,) int8 — kind code of the strongest other source, -1 if none
    dataset.json         units, window config, sources (name, path as
                         given, path from the data set's folder, frames, units), counts

All sources of one data set share one unit: raw D3 sums, or counts per GTU when every
source is per GTU. Mixed sources are converted to raw.
"""

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from uvhunt._core.atomic import atomic_dir, write_json
from uvhunt._core.errors import UvhuntError
from uvhunt.euso.events import KINDS
from uvhunt.euso.npy_writer import GrowingNpy
from uvhunt.euso.readers import Movie
from uvhunt.euso.units import RAW, to_raw
from uvhunt.euso.windows import WindowBlock, WindowConfig, iter_windows


def write_window_dataset(
    movies: list[Movie],
    folder: Path,
    config: WindowConfig,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Cut every movie into windows and write the data set folder atomically.

    Returns the content of dataset.json (with per-class counts).
    """
    config.validate()
    units = movies[0].units if len({m.units for m in movies}) == 1 else RAW
    counts = {"windows": 0, "meteor": 0, "not_meteor": 0, "unknown": 0}
    confusers = dict.fromkeys(KINDS[1:], 0)
    sources = []
    with atomic_dir(Path(folder)) as tmp:
        writers = {
            "values": GrowingNpy(tmp / "values.npy", np.float32, (config.length,)),
            "source": GrowingNpy(tmp / "source.npy", np.int32),
        }
        for name, dtype in zip(WindowBlock.COLUMNS, WindowBlock.DTYPES, strict=True):
            writers[name] = GrowingNpy(tmp / f"{name}.npy", dtype)
        try:
            for index, movie in enumerate(movies):
                n_source = 0
                for block in iter_windows(movie, config, progress):
                    values = (
                        block.values if movie.units == units else to_raw(block.values, movie.units)
                    )
                    writers["values"].append(values)
                    writers["source"].append(np.full(len(block), index, np.int32))
                    for name in WindowBlock.COLUMNS:
                        writers[name].append(getattr(block, name))
                    n_source += len(block)
                    _count(block, counts, confusers)
                sources.append(
                    {
                        "name": movie.name,
                        "path": str(movie.path),
                        "path_from_dataset": os.path.relpath(
                            Path(movie.path).resolve(), Path(folder).resolve()
                        ),
                        "frames": movie.frames,
                        "units": movie.units,
                        "labelled": movie.labelled,
                        "windows": n_source,
                    }
                )
        finally:
            for writer in writers.values():
                writer.close()
        meta = {
            "units": units,
            "config": config.to_dict(),
            "sources": sources,
            "counts": counts,
            "confusers": confusers,
        }
        write_json(tmp / "dataset.json", meta)
    return meta


def _count(block: WindowBlock, counts: dict, confusers: dict) -> None:
    counts["windows"] += len(block)
    counts["meteor"] += int((block.label == 1).sum())
    counts["not_meteor"] += int((block.label == 0).sum())
    counts["unknown"] += int((block.label == -1).sum())
    for code, kind in enumerate(KINDS):
        if code:
            confusers[kind] += int(((block.confuser == code) & (block.label != 1)).sum())


@dataclass
class WindowDataset:
    """A window data set opened for reading; arrays are memory-mapped."""

    folder: Path
    meta: dict
    values: np.ndarray
    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.values)

    def __getattr__(self, name: str) -> np.ndarray:
        columns = self.__dict__.get("columns", {})
        if name in columns:
            return columns[name]
        raise AttributeError(name)

    def source_path(self, index: int) -> Path:
        """Where source ``index``'s movie is, absolute: by its path from the data set's folder
        when that exists (so a run folder finds its sessions from any working folder and when
        moved whole), else by the path as given when the data set was written (a data set
        copied away from its sessions, or written before the relative path was kept)."""
        source = self.meta["sources"][index]
        if "path_from_dataset" in source:
            path = (Path(self.folder) / source["path_from_dataset"]).resolve()
            if path.exists():
                return path
        return Path(source["path"]).resolve()


def open_window_dataset(folder: Path) -> WindowDataset:
    folder = Path(folder)
    if not (folder / "dataset.json").is_file():
        raise UvhuntError(
            "not a window data set (no dataset.json)",
            path=folder,
            fix="write a window data set first (window_store.write_window_dataset)",
        )
    meta = json.loads((folder / "dataset.json").read_text())
    names = ("source", *WindowBlock.COLUMNS)
    try:
        values = np.load(folder / "values.npy", mmap_mode="r")
        columns = {n: np.load(folder / f"{n}.npy", mmap_mode="r") for n in names}
    except (OSError, ValueError) as exc:
        raise UvhuntError(
            f"window data set is damaged ({exc})",
            path=folder,
            fix="write the window data set again",
        ) from exc
    lengths = {len(values), *(len(c) for c in columns.values())}
    if len(lengths) != 1:
        raise UvhuntError(
            "window data set columns differ in length",
            path=folder,
            fix="write the window data set again",
        )
    return WindowDataset(folder, meta, values, columns)
