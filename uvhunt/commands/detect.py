"""Scan a D3 movie for meteors as the firmware would: every pixel's sliding 48-frame window
scored with the integer golden model, a trigger threshold for a stated false-positive rate,
triggered windows grouped into events (CSV, JSON, a picture each), and the per-pixel score
maps saved for further analysis."""

from pathlib import Path

from euso.units import UNITS
from uvhunt.console import emit, progress, table
from uvhunt.detect_stage import DEFAULT_FPR, detect_stage
from uvhunt.run_layout import default_folder

NAME = "detect"
HELP = "find meteors in a movie with the firmware's integer model; events and score maps"


def add_arguments(p) -> None:
    p.add_argument("movie", type=Path, help="session folder, .npy, .npz or Mini-EUSO .root")
    p.add_argument(
        "--export",
        type=Path,
        default=default_folder("export"),
        help="folder written by `uvhunt export` (golden.npz, manifest.json)",
    )
    p.add_argument(
        "--out", type=Path, default=default_folder("detect"), help="output folder (replaced)"
    )
    p.add_argument(
        "--fpr",
        type=float,
        default=DEFAULT_FPR,
        help="fraction of the movie's windows allowed above the threshold (the threshold is "
        "the score exceeded by that fraction)",
    )
    p.add_argument(
        "--threshold", type=float, default=None, help="fixed logit threshold instead of --fpr"
    )
    p.add_argument("--units", choices=UNITS, default=None, help="force the movie's units")
    p.add_argument("--pictures", type=int, default=20, help="pictures of the brightest events")


def main(args) -> int:
    summary = detect_stage(
        args.movie,
        args.export,
        args.out,
        args.fpr,
        args.threshold,
        args.units,
        args.pictures,
        lambda frames: progress(frames, "detect", "frame", args.quiet),
    )
    emit(summary, render(summary), args.json)
    return 0


def render(summary: dict) -> str:
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
        f"({th['fraction_above']:.1e})",
        f"{summary['events']} events (brightest above); scored in "
        f"{summary['seconds']['scoring']} s, {summary['seconds']['total']} s in all",
    ]
    if truth is not None:
        lines.append(
            f"truth: {truth['meteors_detected']} of {truth['meteors']} simulated meteors "
            f"detected; events by truth kind: {truth['events_by_truth_kind']}"
        )
    lines.append(f"events.csv, events.json, events/, scores.npy in {summary['out']}")
    return "\n".join(lines)
