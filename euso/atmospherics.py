"""Atmospheric confusers: lightning flashes and ELVES (usually brighter and larger than meteors).

Lightning: one to several strokes, each a single bright D3 frame, within up to ~0.5 s,
lighting clouds over several pixels. ELVES: a ring of light expanding at the speed of
light in under a millisecond, so one D3 frame holds a broad ring tens of pixels across.
"""

from dataclasses import dataclass

import numpy as np

from uvhunt.euso.events import EventRecord
from uvhunt.euso.geometry import FOCAL_MAX, FOCAL_MIN, PIXEL_CENTRES
from uvhunt.euso.render import gaussian_spot
from uvhunt.euso.scene import GroundScene
from uvhunt.euso.timing import D3_GTUS, D3_S

LIGHTNING_FLUX_PER_GTU = (50.0, 5000.0)
"""Total light of one stroke, counts per GTU (log-uniform)."""
LIGHTNING_SIGMA_PX = (1.5, 6.0)
"""Size of the lit cloud, pixel pitches."""
LIGHTNING_SPAN_FRAMES = 12
ELVE_CENTRE_MARGIN = 20.0
"""ELVE ring centres are drawn up to this many pitches beyond the focal surface's edges."""
ELVE_AMPLITUDE_PER_GTU = (0.3, 3.0)
"""Peak ring brightness averaged over its D3 frame, counts/pixel/GTU (log-uniform)."""


@dataclass(frozen=True)
class Lightning:
    stroke_frames: tuple[int, ...]
    a: float
    c: float
    """Ground position (pitches); the flash drifts with the ground."""
    sigma: float
    stroke_flux: tuple[float, ...]
    """Total light of each stroke, raw D3 counts."""

    def light(self, f0: int, f1: int, scene: GroundScene):
        frames = np.array([f for f in self.stroke_frames if f0 <= f < f1])
        if frames.size == 0:
            return None
        flux = np.array(
            [x for f, x in zip(self.stroke_frames, self.stroke_flux, strict=True) if f0 <= f < f1]
        )
        u, v = scene.track.ground_to_focal(self.a, self.c, frames + 0.5)
        return gaussian_spot(frames, u, v, flux, self.sigma)

    def record(self, event_id: int, scene: GroundScene) -> EventRecord:
        first, last = self.stroke_frames[0], self.stroke_frames[-1]
        return EventRecord.seen(
            event_id,
            "lightning",
            first,
            last,
            scene.track.ground_to_focal(self.a, self.c, first + 0.5),
            scene.track.ground_to_focal(self.a, self.c, last + 0.5),
            peak_flux_per_gtu=max(self.stroke_flux) / D3_GTUS,
        )


@dataclass(frozen=True)
class Elve:
    frame: int
    u: float
    v: float
    """Focal position of the ring centre (may lie outside the field of view)."""
    radius: float
    width: float
    amplitude: float
    """Ring brightness at its crest, raw D3 counts per pixel."""

    def light(self, f0: int, f1: int, scene: GroundScene):
        if not f0 <= self.frame < f1:
            return None
        du = PIXEL_CENTRES[:, None] - self.u
        dv = PIXEL_CENTRES[None, :] - self.v
        ring = self.amplitude * np.exp(-0.5 * ((np.hypot(du, dv) - self.radius) / self.width) ** 2)
        row, col = np.nonzero(ring > 0)
        return np.full(row.size, self.frame), row, col, ring[row, col]

    def record(self, event_id: int, scene: GroundScene) -> EventRecord:
        centre = (self.u, self.v)
        return EventRecord.seen(
            event_id,
            "elve",
            self.frame,
            self.frame,
            centre,
            centre,
            peak_flux_per_gtu=self.amplitude / D3_GTUS,
        )


def _log_uniform(rng: np.random.Generator, low: float, high: float, size=None):
    return np.exp(rng.uniform(np.log(low), np.log(high), size))


def sample_lightning(
    rng: np.random.Generator, scene: GroundScene, per_hour: float, frames: int
) -> list[Lightning]:
    """Lightning flashes, placed preferably under the thickest clouds in view."""
    n = int(rng.poisson(per_hour * frames * D3_S / 3600.0))
    flashes = []
    for _ in range(n):
        start = int(rng.integers(0, frames))
        candidates = rng.uniform(FOCAL_MIN, FOCAL_MAX, (16, 2))
        a, c = scene.track.focal_to_ground(candidates[:, 0], candidates[:, 1], start + 0.5)
        best = int(np.argmax(scene.sample(scene.cloud, a, c)))
        strokes = 1 + int(rng.poisson(1.5))
        offsets = np.unique(
            np.concatenate([[0], rng.integers(1, LIGHTNING_SPAN_FRAMES, strokes - 1)])
        )
        stroke_frames = tuple(int(f) for f in start + offsets if f < frames)
        flux = _log_uniform(rng, *LIGHTNING_FLUX_PER_GTU, len(stroke_frames)) * D3_GTUS
        flashes.append(
            Lightning(
                stroke_frames,
                float(a[best]),
                float(c[best]),
                float(rng.uniform(*LIGHTNING_SIGMA_PX)),
                tuple(float(x) for x in flux),
            )
        )
    return flashes


def sample_elves(rng: np.random.Generator, per_hour: float, frames: int) -> list[Elve]:
    n = int(rng.poisson(per_hour * frames * D3_S / 3600.0))
    return [
        Elve(
            frame=int(rng.integers(0, frames)),
            u=float(rng.uniform(FOCAL_MIN - ELVE_CENTRE_MARGIN, FOCAL_MAX + ELVE_CENTRE_MARGIN)),
            v=float(rng.uniform(FOCAL_MIN - ELVE_CENTRE_MARGIN, FOCAL_MAX + ELVE_CENTRE_MARGIN)),
            radius=float(rng.uniform(15.0, 45.0)),
            width=float(rng.uniform(3.0, 8.0)),
            amplitude=float(_log_uniform(rng, *ELVE_AMPLITUDE_PER_GTU)) * D3_GTUS,
        )
        for _ in range(n)
    ]
