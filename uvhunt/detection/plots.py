"""One picture per detected event: the focal surface at the event's peak (minus the local
median, with the triggered pixels marked) and the light curves of its brightest pixels."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from uvhunt.detection.events import TriggerEvent, distance_to_track  # noqa: E402
from uvhunt.euso.events import EventRecord  # noqa: E402
from uvhunt.euso.readers import Movie  # noqa: E402
from uvhunt.euso.timing import D3_S  # noqa: E402

MARGIN = 40
"""Frames shown before and after the event's windows."""
BACKGROUND = 20
"""Frames before and after whose median is subtracted from the peak frame."""


def plot_event(movie: Movie, event: TriggerEvent, length: int, path: Path) -> Path:
    """A detected event: the focal surface at its brightest frame minus the ±20-frame median,
    the peak pixel circled, and the light curves of the brightest pixels around it."""
    f0 = max(0, event.start_frame - MARGIN)
    f1 = min(movie.frames, event.last_frame + MARGIN + 1)
    clip = movie.read(f0, f1).astype(np.float64)
    # The light peaks inside the peak window; take the brightest frame of the peak pixel.
    w0, w1 = event.peak_frame - length + 1 - f0, event.peak_frame + 1 - f0
    series = clip[:, event.peak_row, event.peak_col]
    peak = w0 + int(np.argmax(series[max(w0, 0) : w1])) if w1 > max(w0, 0) else 0
    lo, hi = max(0, peak - BACKGROUND), min(len(clip), peak + BACKGROUND + 1)
    neighbours = [
        (event.peak_row + dr, event.peak_col + dc)
        for dr in (-1, 0, 1)
        for dc in (-1, 0, 1)
        if 0 <= event.peak_row + dr < 48 and 0 <= event.peak_col + dc < 48
    ]
    truth = f" — truth: {event.truth_kind} {event.truth_id}" if event.truth_kind else ""
    motion = (
        f"{event.speed_px_per_frame:.2f} px/frame towards {event.direction_deg:.0f}°"
        if np.isfinite(event.speed_px_per_frame)
        else "no measurable motion"
    )
    return _draw(
        movie,
        clip,
        f0,
        peak,
        clip[peak] - np.median(clip[lo:hi], axis=0),
        sorted(neighbours, key=lambda p: -clip[peak, p[0], p[1]])[:4],
        (event.start_frame, event.last_frame, "triggered windows", "C3"),
        f"event {event.id}: frame {f0 + peak} (t = {(f0 + peak) * D3_S:.2f} s){truth}",
        f"{event.pixels} pixels, {event.windows} windows, peak logit {event.peak_logit:.2f}; "
        f"{motion}",
        path,
        circle=(event.peak_row, event.peak_col),
    )


def plot_rejected(
    movie: Movie, record: EventRecord, best_logit: float, threshold_logit: float, path: Path
) -> Path:
    """A simulated confuser whose windows all stayed below the threshold: the focal surface
    at its brightest frame minus the median, and the light curves of its brightest pixels."""
    f0 = max(0, record.start_frame - MARGIN)
    f1 = min(movie.frames, record.end_frame + MARGIN + 1)
    clip = movie.read(f0, f1).astype(np.float64)
    excess = clip[record.start_frame - f0 : record.end_frame - f0 + 1] - np.median(clip, axis=0)
    # Its own pixels: those within 3 pitches of its track; the brightest of them.
    near = np.array([[distance_to_track(record, r, c) <= 3 for c in range(48)] for r in range(48)])
    masked = np.where(near, excess, -np.inf)
    inside = int(np.argmax(masked.reshape(len(masked), -1).max(axis=1)))
    order = np.argsort(-masked[inside].ravel())[:4]
    pixels = [tuple(int(v) for v in np.unravel_index(int(k), (48, 48))) for k in order]
    peak = record.start_frame - f0 + inside
    return _draw(
        movie,
        clip,
        f0,
        peak,
        excess[inside],
        pixels,
        (record.start_frame, record.end_frame, record.kind, "C7"),
        f"{record.kind} {record.id}: frame {f0 + peak} (t = {(f0 + peak) * D3_S:.2f} s)",
        f"rejected: best window logit {best_logit:.2f} ≤ threshold {threshold_logit:.2f}",
        path,
    )


def _draw(
    movie, clip, f0, peak, image, pixels, span, image_title, curve_title, path, circle=None
) -> Path:
    """The two panels: ``image`` (counts above a median) and ``pixels``' light curves over
    ``clip`` (frames from ``f0``), with the frames ``span`` = (first, last, label, colour)
    shaded."""
    fig, (ax_img, ax_curve) = plt.subplots(
        1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [1, 1.4]}
    )
    limit = max(float(np.percentile(np.abs(image), 99.5)), 1.0)
    shown = ax_img.imshow(image, cmap="coolwarm", vmin=-limit, vmax=limit)
    fig.colorbar(shown, ax=ax_img, label="raw D3 counts above the median", shrink=0.85)
    if circle is not None:
        ax_img.scatter([circle[1]], [circle[0]], s=160, facecolors="none", edgecolors="k")
    ax_img.set_title(image_title, fontsize=10)
    times = np.arange(f0, f0 + len(clip)) * D3_S
    for r, c in pixels:
        ax_curve.plot(times, clip[:, r, c], lw=1, label=f"pixel ({r}, {c})")
    first, last, label, colour = span
    ax_curve.axvspan(first * D3_S, (last + 1) * D3_S, alpha=0.12, color=colour, label=label)
    ax_curve.set_xlabel("time in the movie, s")
    ax_curve.set_ylabel(f"D3 counts ({movie.units})")
    ax_curve.set_title(curve_title, fontsize=10)
    ax_curve.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
