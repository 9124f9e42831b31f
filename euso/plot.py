"""Pictures that let a person check the data: a focal-surface frame and light curves."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from uvhunt.euso.store import StoredSession  # noqa: E402

LIGHT_CURVE_MARGIN = 40
"""Frames shown before and after the meteor."""
BACKGROUND_FRAMES = 20
"""Frames before and after whose median is subtracted in the difference image."""


def _snr(session: StoredSession) -> np.ndarray:
    return session.truth.counts / np.sqrt(np.maximum(session.truth.expected, 1.0))


def clearest_meteor(session: StoredSession):
    """The meteor with the largest peak signal-to-noise in one pixel, or None."""
    truth, snr = session.truth, _snr(session)
    best, best_snr = None, 0.0
    for event in session.events:
        mine = truth.event == event.id
        if event.kind == "meteor" and mine.any() and snr[mine].max() > best_snr:
            best, best_snr = event, float(snr[mine].max())
    return best


def plot_session(session: StoredSession, path: Path) -> Path:
    """Draw the clearest meteor's peak frame (raw and background-subtracted), its track and
    the light curves of the pixels it lights most, to ``path`` (PNG)."""
    meteor = clearest_meteor(session)
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.2), gridspec_kw={"width_ratios": [1, 1, 1.4]})
    ax_raw, ax_diff, ax_curve = axes
    truth, snr = session.truth, _snr(session)
    movie = session.movie
    pixels = []
    frame = len(movie) // 2
    meteor_peak = 0.0
    if meteor is not None:
        mine = truth.event == meteor.id
        brightest = int(np.argmax(np.where(mine, snr, -1)))
        frame, meteor_peak = int(truth.frame[brightest]), 1.3 * float(truth.counts[brightest])
        lit = np.flatnonzero(mine & (snr >= 3))
        order = lit[np.argsort(-snr[lit])]
        for r, c in zip(truth.row[order], truth.col[order], strict=True):
            if (int(r), int(c)) not in pixels:
                pixels.append((int(r), int(c)))
        pixels = pixels[:5]
    image = np.asarray(movie[frame], dtype=float)
    lo, hi = max(0, frame - BACKGROUND_FRAMES), min(len(movie), frame + BACKGROUND_FRAMES + 1)
    difference = image - np.median(np.asarray(movie[lo:hi], dtype=float), axis=0)
    for ax, data, title, cmap, label in (
        (
            ax_raw,
            image,
            f"frame {frame} (t = {frame * 0.04096:.2f} s)",
            "magma",
            "raw D3 counts (sum over 16,384 GTUs)",
        ),
        (
            ax_diff,
            difference,
            "minus the median of ±20 frames",
            "coolwarm",
            "raw D3 counts above median",
        ),
    ):
        if ax is ax_raw:
            shown = ax.imshow(data, cmap=cmap, vmax=np.percentile(data, 99.8))
        else:  # scaled to the meteor's own signal, so brighter sources cannot hide it
            limit = max(meteor_peak, float(np.percentile(np.abs(data), 99.0)), 1.0)
            shown = ax.imshow(data, cmap=cmap, vmin=-limit, vmax=limit)
        fig.colorbar(shown, ax=ax, label=label, shrink=0.85)
        ax.set_title(f"{session.name}: {title}", fontsize=10)
        ax.set_xlabel("column (pixel)")
        ax.set_ylabel("row (pixel)")
        for p in range(8, 48, 8):
            ax.axhline(p - 0.5, color="grey", lw=0.3, alpha=0.6)
            ax.axvline(p - 0.5, color="grey", lw=0.3, alpha=0.6)
        if meteor is not None:
            ax.annotate(
                "",
                xy=(meteor.end_col, meteor.end_row),
                xytext=(meteor.start_col, meteor.start_row),
                arrowprops={"arrowstyle": "->", "color": "lime", "lw": 1.2},
            )
    if meteor is not None:
        lo = max(0, meteor.start_frame - LIGHT_CURVE_MARGIN)
        hi = min(len(movie), meteor.end_frame + LIGHT_CURVE_MARGIN)
        t = np.arange(lo, hi)
        for r, c in pixels:
            curve = np.asarray(movie[lo:hi, r, c], dtype=float)
            ax_curve.plot(t, curve - np.median(curve), lw=1, label=f"pixel ({r}, {c})")
        ax_curve.axvspan(
            meteor.start_frame, meteor.end_frame, color="grey", alpha=0.15, label="meteor"
        )
        ax_curve.set_title(
            f"meteor {meteor.id}: magnitude {meteor.magnitude:+.1f}, "
            f"{meteor.speed_px_per_frame:.2f} px/frame, "
            f"{meteor.end_frame - meteor.start_frame + 1} frames",
            fontsize=10,
        )
        ax_curve.legend(fontsize=8)
    else:
        ax_curve.set_title("no meteor in this session")
    ax_curve.set_xlabel("D3 frame (40.96 ms)")
    ax_curve.set_ylabel("raw D3 counts minus the pixel's median")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)
