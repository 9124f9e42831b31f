"""Scan a D3 movie for meteors as the firmware would: every pixel's sliding 48-frame window
scored with the integer golden model, a trigger threshold for a stated false-positive rate,
triggered windows grouped into events (CSV, JSON, a picture each), and the per-pixel score
maps saved for further analysis. ``--mask FILE`` (or ``--mask auto``: found in the movie
itself) excludes known dead and hot pixels from triggering.

Given a folder of movies or a glob pattern instead of one movie, it scans the archive on
Dask: one task per movie on a local cluster (``--workers``) or an existing one
(``--scheduler``), each movie's results in ``files/``, every event in one table with its
movie and time."""

from pathlib import Path

from uvhunt._core.cluster import DEFAULT_WORKERS
from uvhunt.console import quality_sentence, table
from uvhunt.detection.archive import is_archive, scan_archive
from uvhunt.detection.conventional import ConventionalTrigger
from uvhunt.detection.scan import DEFAULT_FPR, scan_movie
from uvhunt.detection.stack_coincidence import describe
from uvhunt.euso.bad_pixels import find_mask
from uvhunt.euso.pixel_mask import PixelMask, read_mask
from uvhunt.euso.readers import open_movie
from uvhunt.euso.units import UNITS
from uvhunt.stages.stage import Input, Stage

DETECT_SESSION = "session_00"
"""The session ``uvhunt run`` scans for the report's pictures of detected events."""


def add_options(p) -> None:
    p.add_argument(
        "--fpr",
        type=float,
        default=None,
        help="instead of the export's stored operating threshold: the score exceeded by this "
        f"fraction of the movie's windows (without a stored threshold: {DEFAULT_FPR:g})",
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="a fixed logit threshold instead of the stored operating threshold",
    )
    p.add_argument("--units", choices=UNITS, default=None, help="force the movie's units")
    p.add_argument("--pictures", type=int, default=20, help="pictures of the brightest events")
    p.add_argument(
        "--conventional",
        action="store_true",
        help="movies with truth: also run the conventional trigger (a moving sum against the "
        "running background) at the network's false-event rate, and compare",
    )
    p.add_argument(
        "--stack",
        action="store_true",
        help="also run the track stack trigger ORed with the peak gate (hls/stack_trigger.py "
        "and the trigger core's gate bit), and their coincidence where the export stores one "
        "(hls/stack_coincidence.py), at the export's stored thresholds: its events in "
        "stack_events.csv, and with truth its false events per hour and meteors caught",
    )
    p.add_argument(
        "--mask",
        default=None,
        metavar="FILE|auto",
        help="pixels that never trigger: a 48×48 mask file (.npy of bools or 0/1, or text of "
        "48 lines of 48 digits; 1 = excluded), or 'auto': the dead and hot pixels found in "
        "the movie itself (an offline convenience)",
    )

    p.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        help="an archive: worker processes of the local Dask cluster",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:PORT|FILE",
        help="an archive: scan on this existing Dask cluster (its scheduler's address or "
        "scheduler file) instead of a local one",
    )
    p.add_argument(
        "--skip-bad",
        action="store_true",
        help="an archive: list a movie that fails and go on, instead of stopping",
    )


def run(args, progress) -> dict:
    if is_archive(args.movie):
        return scan_archive(
            args.movie,
            args.export,
            args.out,
            args.fpr,
            args.threshold,
            args.units,
            args.pictures,
            None if args.mask in (None, "auto") else read_mask(Path(args.mask)),
            args.mask == "auto",
            args.conventional,
            args.stack,
            args.workers,
            args.scheduler,
            args.skip_bad,
            progress,
        )
    mask = _mask(args, progress)
    return scan_movie(
        args.movie,
        args.export,
        args.out,
        args.fpr,
        args.threshold,
        args.units,
        args.pictures,
        progress,
        ConventionalTrigger() if args.conventional else None,
        mask,
        stack=args.stack,
    )


def _mask(args, progress) -> PixelMask | None:
    """The mask of ``--mask``: read from a file, or found in the movie (``auto``)."""
    if args.mask is None:
        return None
    if args.mask != "auto":
        return read_mask(Path(args.mask))
    movie = open_movie(Path(args.movie), args.units)
    with progress(movie.frames, "mask", "frame") as bar:
        return find_mask(movie, bar.update)


def render(summary: dict) -> str:
    if "archive" in summary:
        return render_archive(summary)
    th, truth = summary["threshold"], summary["truth"]
    rows = [
        [
            e["id"],
            e["first_frame"],
            e["last_frame"],
            e["pixels"],
            f"{e['peak_logit']:.2f}",
            f"({e['peak_row']}, {e['peak_col']})",
            ""
            if e["speed_px_per_frame"] != e["speed_px_per_frame"]
            else f"{e['speed_px_per_frame']:.2f}",
            e["truth_kind"],
        ]
        for e in summary["top_events"]
    ]
    lines = [
        table(
            rows, ["event", "first", "last", "pixels", "peak logit", "pixel", "px/frame", "truth"]
        ),
        "",
        f"{summary['frames']:,} frames: {th['windows']:,} windows scored; threshold logit "
        f"{th['logit']:.3f} (score > {th['score']}), {th['windows_above']:,} windows above "
        f"({th['fraction_above']:.1e}): {th['source']}",
        f"{summary['events']} events (brightest above); scored in "
        f"{summary['seconds']['scoring']} s, {summary['seconds']['total']} s in all",
    ]
    if truth is not None:
        lines.append(
            f"truth: {truth['meteors_detected']} of {truth['meteors']} simulated meteors "
            f"detected; events by truth kind: {truth['events_by_truth_kind']}"
        )
        lines.append(f"network: {quality_sentence(truth['quality'])}")
    m = summary.get("mask")
    if m:
        found = f" ({m['dead']} dead, {m['hot']} hot)" if "hot" in m else ""
        lines.append(f"mask: {m['pixels']} pixels never trigger{found}, {m['source']}")
    c = summary.get("conventional")
    if c:
        t = c["trigger"]
        lines.append(
            f"conventional trigger ({t['frames']}-frame sum against the {t['background']}-frame "
            f"background, z > {c['threshold_sigma']:.2f} σ) at the same false-event rate, from "
            f"frame {c['first_frame']}:"
        )
        lines.append(f"  network: {quality_sentence(c['network'])}")
        lines.append(f"  conventional: {quality_sentence(c['conventional'])}")
    s = summary.get("stack")
    if s:
        met = s.get("coincidence")
        beside = "" if met is None else f", or {describe(met)}"
        lines.append(
            f"track stack or gate (Z > {s['threshold']} or code > {s['gate_code']}{beside}, "
            f"the export's stored thresholds; {s['excluded_pixels']} pixels excluded: "
            f"{s['mask']}): {s['events']} events in stack_events.csv"
        )
        if s["quality"] is not None:
            lines.append(f"  track stack or gate: {quality_sentence(s['quality'])}")
    lines.append(f"events.csv, events.json, events/, scores.npy in {summary['out']}")
    return "\n".join(lines)


def render_archive(summary: dict) -> str:
    rows = [
        [
            f["file"],
            f"{f['frames']:,}",
            f["events"],
            "" if f["meteors"] is None else f"{f['meteors_detected']}/{f['meteors']}",
            f["seconds"],
        ]
        for f in summary["files"]
    ]
    c = summary["cluster"]
    where = "a local cluster" if c["local"] else f"the cluster at {c['scheduler']}"
    lines = [
        table(rows, ["movie", "frames", "events", "meteors found", "seconds"]),
        "",
        f"{summary['movies']} movies, {summary['frames']:,} frames ({summary['hours']:.2f} h): "
        f"{summary['events']} events; scanned on {where} of {c['workers']} workers in "
        f"{summary['seconds']['scan']} s ({summary['frames_per_second']:,.0f} frames/s)",
    ]
    for s in summary["skipped"]:
        lines.append(f"skipped {s['file']}: {s['error']}")
    lines.append(f"events.csv, events.json, files/, logs/ in {summary['out']}")
    return "\n".join(lines)


STAGE = Stage(
    name="detect",
    folder="detect",
    help="find meteors in a movie with the firmware's integer model; events and score maps",
    description=__doc__,
    add_options=add_options,
    run=run,
    render=render,
    in_run={"stack": True},
    inputs=(
        Input(
            "movie",
            "simulate",
            "session folder, .npy, .npz or Mini-EUSO .root; or a folder or glob of them "
            "(an archive)",
            positional=True,
            inside=DETECT_SESSION,
        ),
        Input(
            "export",
            "export",
            "folder written by `uvhunt export` (golden.npz, manifest.json)",
        ),
    ),
)
