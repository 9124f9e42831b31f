"""An archive of movies scanned on a Dask cluster: one task per movie (``scan.scan_movie``, the
same scan as one movie's, at the same threshold), its events and score maps in a folder of
its own, and every event merged into one table with its movie and time.

An archive is a folder of movies (session folders, ``.npy``, ``.npz``, ``.root``; not
recursive) or a glob pattern (``'data/2021-*/*.root'``; ``**`` recurses)."""

import csv
import glob
import json
import time
from dataclasses import dataclass
from pathlib import Path

from uvhunt._core.atomic import atomic_dir, check_output, write_json
from uvhunt._core.cluster import DEFAULT_WORKERS, dask_client, describe, run_tasks, save_logs
from uvhunt._core.errors import UvhuntError
from uvhunt._core.progress import ProgressFactory
from uvhunt.detection.conventional import ConventionalTrigger
from uvhunt.detection.operating_point import stored_threshold
from uvhunt.detection.scan import scan_movie
from uvhunt.detection.stack_scan import stored_stack
from uvhunt.euso.bad_pixels import find_mask
from uvhunt.euso.pixel_mask import PixelMask
from uvhunt.euso.readers import SUFFIXES, open_movie
from uvhunt.euso.store import is_session_folder
from uvhunt.euso.timing import D3_S

GLOB_CHARACTERS = "*?["
TABLE_FIELDS = ("file", "time_s", "unix_time")
"""The merged table's first columns: the movie (as found), the event's first frame in seconds
from the movie's start, and in unix seconds where the movie has timestamps."""


def is_archive(source: Path | str) -> bool:
    """A glob pattern, or a folder that is not itself a session."""
    text = str(source)
    if any(ch in text for ch in GLOB_CHARACTERS) and not Path(text).exists():
        return True
    return Path(text).is_dir() and not is_session_folder(Path(text))


def _is_movie(path: Path) -> bool:
    if path.is_dir():
        return is_session_folder(path)
    return path.suffix.lower() in SUFFIXES


def find_movies(source: Path | str) -> list[Path]:
    """The movies of an archive, sorted by path."""
    text = str(source)
    if Path(text).is_dir():
        found = sorted(p for p in Path(text).iterdir() if _is_movie(p))
    else:
        found = sorted(Path(p) for p in glob.glob(text, recursive=True) if _is_movie(Path(p)))
    if not found:
        raise UvhuntError(
            "no movies found (session folders, .npy, .npz or .root)",
            path=text,
            fix="give a folder holding movies or a glob pattern such as 'data/*.root' "
            "(quoted, so that the shell leaves it alone)",
        )
    return found


@dataclass(frozen=True)
class ScanTask:
    """One movie's scan, as a worker runs it (picklable)."""

    movie: str
    export: str
    out: str
    fpr: float | None
    threshold: float | None
    units: str | None
    pictures: int
    mask: PixelMask | None
    """A mask for every movie, or None."""
    auto_mask: bool
    """Find each movie's own dead and hot pixels instead."""
    conventional: bool = False
    """Movies with truth: also the conventional trigger at the network's false-event rate."""
    stack: bool = False
    """Also the track stack trigger ORed with the peak gate at the stored thresholds."""

    def __call__(self) -> dict:
        movie = open_movie(Path(self.movie), self.units)
        mask = find_mask(movie) if self.auto_mask else self.mask
        summary = scan_movie(
            Path(self.movie),
            Path(self.export),
            Path(self.out),
            self.fpr,
            self.threshold,
            self.units,
            self.pictures,
            conventional=ConventionalTrigger() if self.conventional else None,
            mask=mask,
            threads=1,
            stack=self.stack,
        )
        rows = json.loads((Path(self.out) / "events.json").read_text())
        start = movie.timestamps[0] if movie.timestamps is not None else None
        for row in rows:
            row["time_s"] = round(row["first_frame"] * D3_S, 5)
            row["unix_time"] = (
                None if start is None else float(movie.timestamps[row["first_frame"]])
            )
        summary.pop("top_events", None)
        return {"summary": summary, "events": rows}


def scan_task(task: ScanTask) -> dict:
    return task()


def scan_archive(
    source: Path | str,
    export: Path,
    out: Path,
    fpr: float | None = None,
    threshold: float | None = None,
    units: str | None = None,
    pictures: int = 0,
    mask: PixelMask | None = None,
    auto_mask: bool = False,
    conventional: bool = False,
    stack: bool = False,
    workers: int = DEFAULT_WORKERS,
    scheduler: str | None = None,
    skip_bad: bool = False,
    progress: ProgressFactory | None = None,
) -> dict:
    """Scan every movie of ``source`` into ``out`` (replaced): ``files/NNNN_<name>/`` as
    ``uvhunt detect`` writes for one movie, ``events.csv`` and ``events.json`` with every
    event and its movie and time, ``logs/`` with the cluster's logs and ``archive.json``.
    With ``stack``, each movie's folder also holds the track stack trigger's events
    (``stack_events.csv``; the merged table is the network's). A movie that fails stops the
    scan (nothing is written) unless ``skip_bad``: then it is listed under ``skipped`` with its
    error. Progress in movies."""
    movies = find_movies(source)
    check_output(out, [export, *movies])
    if stack:  # before any task: every movie would fail on the same export
        stored_stack(stored_threshold(Path(export)), Path(export))
    start = time.perf_counter()
    with atomic_dir(out) as tmp:
        files = tmp / "files"
        files.mkdir()
        tasks = [
            ScanTask(
                str(Path(m).resolve()),
                str(Path(export).resolve()),
                str((files / f"{i:04d}_{m.stem}").resolve()),
                fpr,
                threshold,
                units,
                pictures,
                mask,
                auto_mask,
                conventional,
                stack,
            )
            for i, m in enumerate(movies)
        ]
        with dask_client(workers, scheduler) as client:
            cluster = describe(client)
            began = time.perf_counter()
            outcomes = run_tasks(
                client, scan_task, tasks, progress, "scan", "movie", keep_going=skip_bad
            )
            seconds = time.perf_counter() - began
            logs = save_logs(client, tmp / "logs")
        done, skipped, events = [], [], []
        for movie, outcome in zip(movies, outcomes, strict=True):
            if outcome.error is not None:
                skipped.append({"file": str(movie), "error": outcome.error})
                continue
            s = outcome.result["summary"]
            folder = Path(tasks[outcome.index].out).name
            done.append(_file_row(movie, folder, s))
            events += [
                {"file": str(movie), **{k: row.pop(k) for k in ("time_s", "unix_time")}, **row}
                for row in outcome.result["events"]
            ]
        if not done:
            raise UvhuntError(
                "every movie of the archive failed; the first: " + skipped[0]["error"],
                path=source,
                fix="check the files, or scan one with `uvhunt detect FILE` to see why",
            )
        _write_table(tmp, events)
        frames = sum(f["frames"] for f in done)
        summary = {
            "archive": str(source),
            "export": str(export),
            "files": done,
            "skipped": skipped,
            "movies": len(done),
            "frames": frames,
            "hours": frames * D3_S / 3600,
            "events": len(events),
            "cluster": {**cluster, "local": scheduler is None, "logs": logs},
            "seconds": {"scan": round(seconds, 1), "total": round(time.perf_counter() - start, 1)},
            "frames_per_second": frames / max(seconds, 1e-9),
        }
        write_json(tmp / "archive.json", summary)
    return {"out": str(out), **summary}


def _file_row(movie: Path, folder: str, s: dict) -> dict:
    truth = s.get("truth")
    return {
        "file": str(movie),
        "folder": f"files/{folder}",
        "frames": s["frames"],
        "units": s["units"],
        "events": s["events"],
        "threshold_score": s["threshold"]["score"],
        "threshold_source": s["threshold"]["source"],
        "windows_above": s["threshold"]["windows_above"],
        "meteors": None if truth is None else truth["meteors"],
        "meteors_detected": None if truth is None else truth["meteors_detected"],
        "false_events": None if truth is None else truth["quality"]["false_events"],
        "stack": None if s.get("stack") is None else _stack_row(s["stack"]),
        "seconds": s["seconds"]["total"],
    }


def _stack_row(stack: dict) -> dict:
    """A movie's track stack trigger figures in the archive's table: events, and with truth
    false events and meteors caught."""
    q = stack["quality"]
    return {
        "events": stack["events"],
        "false_events": None if q is None else q["false_events"],
        "meteors_caught": None if q is None else q["meteors_caught"],
    }


def _write_table(folder: Path, events: list[dict]) -> None:
    (folder / "events.json").write_text(json.dumps(events, indent=1))
    fields = list(events[0]) if events else [*TABLE_FIELDS, "id"]
    with open(folder / "events.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(events)
