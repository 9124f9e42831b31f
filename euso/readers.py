"""Open D3 movies: uvhunt session folders, numpy files and Mini-EUSO ROOT files.

Every reader returns a ``Movie``: a frames×48×48 sequence read block by block (never the
whole movie at once, except from ``.npz``, which numpy cannot memory-map) and checked as it
is read: finite, non-negative numbers only.

* session folder (``uvhunt simulate``): raw D3 counts, with truth and events.
* ``.npy``: one array, shape (frames, 48, 48), memory-mapped.
* ``.npz``: array ``movie`` (or the only array), optional ``timestamps`` (unix s) and
  ``units`` ("raw" or "per_gtu").
* ``.root``: tree ``tevent_2nd_integral``, branch ``photon_count_data`` of shape
  [1][1][48][48] per entry, optional ``timestamp_unix`` (read with uproot, no ROOT needed).

Units (raw sums over 16,384 GTUs, or counts per GTU) are taken from the file where it says,
else from the caller, else detected from the data (``euso.units.detect_units``).
"""

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from uvhunt._core.errors import UvhuntError
from uvhunt.euso.events import EventRecord
from uvhunt.euso.geometry import N_SIDE
from uvhunt.euso.session import Truth
from uvhunt.euso.store import is_session_folder, open_session
from uvhunt.euso.units import UNITS, check_units, detect_units

ROOT_TREE = "tevent_2nd_integral"
ROOT_BRANCH = "photon_count_data"
ROOT_TIME_BRANCH = "timestamp_unix"
UNITS_SAMPLE_FRAMES = 256
SUFFIXES = (".npy", ".npz", ".root")


@dataclass
class Movie:
    """A D3 movie: ``read(f0, f1)`` gives frames [f0, f1) as float32 (T, 48, 48) in ``units``."""

    path: Path
    name: str
    frames: int
    units: str
    reader: Callable[[int, int], np.ndarray]
    timestamps: np.ndarray | None = None
    truth: Truth | None = None
    events: list[EventRecord] | None = None
    identity: int = 0
    """Stable number naming the movie (a session's seed, else a checksum of the file name):
    seeds per-movie random choices so that they do not depend on the other inputs."""

    def read(self, f0: int, f1: int) -> np.ndarray:
        block = np.asarray(self.reader(f0, f1), dtype=np.float32)
        bad = ~np.isfinite(block)
        if bad.any():
            frame = f0 + int(np.argwhere(bad)[0][0])
            raise UvhuntError(
                f"frame {frame} holds NaN or infinite values",
                path=self.path,
                fix="mask or interpolate bad values before reading the movie",
            )
        if (block < 0).any():
            frame = f0 + int(np.argwhere(block < 0)[0][0])
            raise UvhuntError(
                f"frame {frame} holds negative counts",
                path=self.path,
                fix="D3 values are photon counts: subtract no pedestal, or "
                "clip at zero before reading",
            )
        return block

    @property
    def labelled(self) -> bool:
        return self.truth is not None


def open_movie(path: Path, units: str | None = None) -> Movie:
    """Open a session folder, ``.npy``, ``.npz`` or ``.root`` file (see the module docstring)."""
    path = Path(path)
    if units is not None:
        check_units(units)
    if not path.exists():
        raise UvhuntError(
            "no such file or folder",
            path=path,
            fix="check the path: give a session folder or a .npy/.npz/.root file",
        )
    if path.is_dir():
        if not is_session_folder(path):
            raise UvhuntError(
                "folder is not a uvhunt session (no session.json)",
                path=path,
                fix="pass a simulated session folder, or a .npy/.npz/.root file",
            )
        return _open_session(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise UvhuntError(
            f"unsupported file type {suffix or '(none)'}",
            path=path,
            fix=f"use one of {', '.join(SUFFIXES)} or a session folder",
        )
    if path.stat().st_size == 0:
        raise UvhuntError("file is empty", path=path, fix="re-copy or re-export the file")
    opener = {".npy": _open_npy, ".npz": _open_npz, ".root": _open_root}[suffix]
    movie = opener(path, units)
    movie.identity = zlib.crc32(path.name.encode())
    if movie.frames == 0:
        raise UvhuntError("movie holds no frames", path=path, fix="pass a non-empty movie")
    if movie.units is None:
        movie.units = detect_units(movie.read(0, min(movie.frames, UNITS_SAMPLE_FRAMES)))
    return movie


def _check_shape(path: Path, shape: tuple, what: str) -> None:
    if len(shape) != 3 or shape[1:] != (N_SIDE, N_SIDE):
        raise UvhuntError(
            f"{what} has shape {shape}, expected (frames, 48, 48)",
            path=path,
            fix="store one D3 frame of 48×48 pixels per entry along axis 0",
        )


def _check_dtype(path: Path, array: np.ndarray, what: str) -> None:
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise UvhuntError(
            f"{what} has dtype {array.dtype}, expected integers or floats",
            path=path,
            fix="store photon counts as numbers",
        )


def _open_session(folder: Path) -> Movie:
    s = open_session(folder)
    return Movie(
        folder,
        s.name,
        len(s.movie),
        s.meta.get("units", "raw"),
        row_reader(s.movie),
        s.timestamps,
        s.truth,
        s.events,
        identity=int(s.meta.get("seed", 0)),
    )


def _open_npy(path: Path, units: str | None) -> Movie:
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise UvhuntError(
            f"not a readable .npy file, or truncated ({exc})",
            path=path,
            fix="re-save the movie with numpy.save",
        ) from exc
    _check_shape(path, array.shape, "array")
    _check_dtype(path, array, "array")
    return Movie(path, path.stem, array.shape[0], units, row_reader(array))


def row_reader(array: np.ndarray) -> Callable[[int, int], np.ndarray]:
    """``read(f0, f1)`` of rows [f0, f1) of a memory-mapped C-order array, with plain file
    reads: reading a long movie through the map would keep every page it touched resident
    (an hour of D3 data is 0.8 GB)."""
    if not isinstance(array, np.memmap) or not array.flags.c_contiguous:
        return lambda f0, f1: array[f0:f1]
    path, offset, shape = array.filename, array.offset, array.shape
    per_row = int(np.prod(shape[1:], dtype=np.int64))

    def read(f0: int, f1: int) -> np.ndarray:
        f0, f1 = max(0, f0), min(shape[0], f1)
        with open(path, "rb") as f:
            f.seek(offset + f0 * per_row * array.itemsize)
            rows = np.fromfile(f, dtype=array.dtype, count=max(0, f1 - f0) * per_row)
        return rows.reshape(-1, *shape[1:])

    return read


def _open_npz(path: Path, units: str | None) -> Movie:
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = list(z.files)
            key = "movie" if "movie" in keys else (keys[0] if len(keys) == 1 else None)
            if key is None:
                raise UvhuntError(
                    f"no array named 'movie' among {keys}",
                    path=path,
                    fix="name the frames×48×48 array 'movie'",
                )
            array = z[key]
            timestamps = z["timestamps"] if "timestamps" in keys else None
            file_units = str(z["units"]) if "units" in keys else None
    except UvhuntError:
        raise
    except Exception as exc:  # zipfile/numpy raise many kinds on damaged files
        raise UvhuntError(
            f"not a readable .npz file, or truncated ({exc})",
            path=path,
            fix="re-save the movie with numpy.savez",
        ) from exc
    if file_units is not None:
        if file_units not in UNITS:
            raise UvhuntError(
                f"array 'units' says {file_units!r}",
                path=path,
                fix=f"store one of {', '.join(UNITS)} (or leave 'units' out)",
            )
        units = file_units
    _check_shape(path, array.shape, f"array '{key}'")
    _check_dtype(path, array, f"array '{key}'")
    return Movie(path, path.stem, array.shape[0], units, lambda f0, f1: array[f0:f1], timestamps)


def _open_root(path: Path, units: str | None) -> Movie:
    import uproot

    try:
        file = uproot.open(path)
        has_tree = ROOT_TREE in file
        tree = file[ROOT_TREE] if has_tree else None
        branches = tree.keys() if has_tree else []
    except Exception as exc:  # uproot raises many kinds on damaged files
        raise UvhuntError(
            f"not a readable ROOT file, or truncated ({exc})",
            path=path,
            fix="check the file is complete ROOT (re-copy it)",
        ) from exc
    if not has_tree:
        raise UvhuntError(
            f"no tree '{ROOT_TREE}' (has: {', '.join(file.keys()) or 'nothing'})",
            path=path,
            fix="pass a Mini-EUSO level-0/1 file with D3 data",
        )
    if ROOT_BRANCH not in branches:
        raise UvhuntError(
            f"tree '{ROOT_TREE}' has no branch '{ROOT_BRANCH}' (has: {', '.join(branches)})",
            path=path,
            fix="pass a Mini-EUSO file with D3 photon counts",
        )
    branch = tree[ROOT_BRANCH]
    frames = int(tree.num_entries)

    def read(f0: int, f1: int) -> np.ndarray:
        try:
            data = branch.array(library="np", entry_start=f0, entry_stop=f1)
        except Exception as exc:
            raise UvhuntError(
                f"cannot read entries {f0}–{f1} of {ROOT_BRANCH} ({exc})",
                path=path,
                fix="the file may be truncated; re-copy it",
            ) from exc
        if data.dtype == object:
            raise UvhuntError(
                f"branch '{ROOT_BRANCH}' has variable size per entry",
                path=path,
                fix="expected a fixed [1][1][48][48] array per entry",
            )
        if data.shape[1:] != (1, 1, N_SIDE, N_SIDE):
            raise UvhuntError(
                f"branch '{ROOT_BRANCH}' has entries of shape {data.shape[1:]}, "
                "expected (1, 1, 48, 48)",
                path=path,
                fix="pass a Mini-EUSO file with 48×48 D3 frames",
            )
        return data.reshape(len(data), N_SIDE, N_SIDE)

    timestamps = None
    if ROOT_TIME_BRANCH in branches:
        try:
            timestamps = np.asarray(tree[ROOT_TIME_BRANCH].array(library="np"), np.float64)
        except Exception as exc:
            raise UvhuntError(
                f"cannot read branch '{ROOT_TIME_BRANCH}' ({exc})",
                path=path,
                fix="the file may be truncated; re-copy it",
            ) from exc
    return Movie(path, path.stem, frames, units, read, timestamps)
