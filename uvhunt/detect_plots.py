"""One picture per detected event: the focal surface at the event's peak (minus the local
median, with the triggered pixels marked) and the light curves of its brightest pixels."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from euso.events import EventRecord  # noqa: E402
from euso.readers import Movie  # noqa: E402
from euso.timing import D3_S  # noqa: E402
from euso.trigger_events import TriggerEvent  # noqa: E402

MARGIN = 40
"""Frames shown before and after the event's windows."""
BACKGROUND = 20
"""Frames before and after whose median is subtracted from the peak frame."""


def plot_event(movie: Movie, event: TriggerEvent, length: int, path: Path) -> Path:
    f0 = max(0, event.start_frame - MARGIN)
    f1 = min(movie.frames, event.last_frame + MARGIN + 1)
    clip = movie.read(f0, f1).astype(np.float64)
    # The light peaks inside the peak window; take the brightest frame of the peak pixel.
    w0, w1 = event.peak_frame - length + 1 - f0, event.peak_frame + 1 - f0
    series = clip[:, event.peak_row, event.peak_col]
    peak = w0 + int(np.argmax(series[max(w0, 0) : w1])) if w1 > max(w0, 0) else 0
    lo, hi = max(0, peak - BACKGROUND), min(len(clip), peak + BACKGROUND + 1)
    difference = clip[peak] - np.median(clip[lo:hi], axis=0)
    fig, (ax_img, ax_curve) = plt.subplots(
        1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [1, 1.4]}
    )
    limit = max(float(np.percentile(np.abs(difference), 99.5)), 1.0)
    shown = ax_img.imshow(difference, cmap="coolwarm", vmin=-limit, vmax=limit)
    fig.colorbar(shown, ax=ax_img, label="raw D3 counts above the ±20-frame median", shrink=0.85)
    ax_img.scatter([event.peak_col], [event.peak_row], s=160, facecolors="none", edgecolors="k")
    truth = f" — truth: {event.truth_kind} {event.truth_id}" if event.truth_kind else ""
    ax_img.set_title(
        f"event {event.id}: frame {f0 + peak} (t = {(f0 + peak) * D3_S:.2f} s){truth}",
        fontsize=10,
    )
    times = (np.arange(f0, f1)) * D3_S
    neighbours = [
        (event.peak_row + dr, event.peak_col + dc)
        for dr in (-1, 0, 1)
        for dc in (-1, 0, 1)
        if 0 <= event.peak_row + dr < 48 and 0 <= event.peak_col + dc < 48
    ]
    brightest = sorted(neighbours, key=lambda p: -clip[peak, p[0], p[1]])[:4]
    for r, c in brightest:
        ax_curve.plot(times, clip[:, r, c], lw=1, label=f"pixel ({r}, {c})")
    ax_curve.axvspan(
        event.start_frame * D3_S,
        (event.last_frame + 1) * D3_S,
        alpha=0.12,
        color="C3",
        label="triggered windows",
    )
    ax_curve.set_xlabel("time in the movie, s")
    ax_curve.set_ylabel(f"D3 counts ({movie.units})")
    motion = (
        f"{event.speed_px_per_frame:.2f} px/frame towards {event.direction_deg:.0f}°"
        if np.isfinite(event.speed_px_per_frame)
        else "no measurable motion"
    )
    ax_curve.set_title(
        f"{event.pixels} pixels, {event.windows} windows, peak logit {event.peak_logit:.2f}; "
        f"{motion}",
        fontsize=10,
    )
    ax_curve.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def plot_rejected(
    movie: Movie, record: EventRecord, best_logit: float, threshold_logit: float, path: Path
) -> Path:
    """A simulated confuser whose windows all stayed below the threshold: the focal surface
    at its brightest frame and the light curves of its brightest pixels."""
    f0 = max(0, record.start_frame - MARGIN)
    f1 = min(movie.frames, record.end_frame + MARGIN + 1)
    clip = movie.read(f0, f1).astype(np.float64)
    inside = clip[record.start_frame - f0 : record.end_frame - f0 + 1]
    background = np.median(clip, axis=0)
    excess = inside - background
    peak = int(np.argmax(excess.reshape(len(excess), -1).max(axis=1)))
    r, c = np.unravel_index(int(np.argmax(excess[peak])), excess[peak].shape)
    fig, (ax_img, ax_curve) = plt.subplots(
        1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [1, 1.4]}
    )
    limit = max(float(np.percentile(np.abs(excess[peak]), 99.5)), 1.0)
    shown = ax_img.imshow(excess[peak], cmap="coolwarm", vmin=-limit, vmax=limit)
    fig.colorbar(shown, ax=ax_img, label="raw D3 counts above the median", shrink=0.85)
    frame = record.start_frame + peak
    ax_img.set_title(
        f"{record.kind} {record.id}: frame {frame} (t = {frame * D3_S:.2f} s)", fontsize=10
    )
    times = np.arange(f0, f1) * D3_S
    order = np.argsort(-excess[peak].ravel())[:4]
    for index in order:
        pr, pc = np.unravel_index(int(index), excess[peak].shape)
        ax_curve.plot(times, clip[:, pr, pc], lw=1, label=f"pixel ({pr}, {pc})")
    ax_curve.axvspan(
        record.start_frame * D3_S,
        (record.end_frame + 1) * D3_S,
        alpha=0.12,
        color="C7",
        label=record.kind,
    )
    ax_curve.set_xlabel("time in the movie, s")
    ax_curve.set_ylabel(f"D3 counts ({movie.units})")
    ax_curve.set_title(
        f"rejected: best window logit {best_logit:.2f} ≤ threshold {threshold_logit:.2f} "
        f"(brightest pixel ({r}, {c}))",
        fontsize=10,
    )
    ax_curve.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
