"""Artificial ground lights: cities on land and ships on the ocean, drifting with the ISS.

A light crossing a pixel at the drift speed (≈0.05 pixel/frame) makes a slow bell-shaped
light curve there — a classic meteor confuser.
"""

from dataclasses import dataclass

import numpy as np

from uvhunt.euso.events import EventRecord
from uvhunt.euso.geometry import FOCAL_MAX, FOCAL_MIN
from uvhunt.euso.render import gaussian_spot
from uvhunt.euso.scene import CLOUD_LIGHT_TRANSMISSION, GroundScene
from uvhunt.euso.timing import D3_GTUS

CITY_FLUX_PER_GTU = (2.0, 500.0)
"""Total light of a city, counts per GTU (log-uniform)."""
CITY_EXTENT_PX = (0.2, 1.5)
"""Gaussian size of a city on the ground, pixel pitches (log-uniform)."""
SHIP_FLUX_PER_GTU = (0.5, 20.0)
VISIBLE_MARGIN = 4.0
"""Pitches beyond the focal surface's edge within which a light is rendered."""


@dataclass(frozen=True)
class GroundLight:
    kind: str
    a: float
    c: float
    sigma: float
    """Spot width on the focal surface (optics and source size), pitches."""
    flux: float
    """Total light after cloud attenuation, raw D3 counts per frame."""

    def _focal(self, scene: GroundScene, t):
        return scene.track.ground_to_focal(self.a, self.c, t)

    def span(self, scene: GroundScene) -> tuple[int, int]:
        """First and one-past-last frame in which the light is rendered (empty if equal)."""
        lo, hi = FOCAL_MIN - VISIBLE_MARGIN, FOCAL_MAX + VISIBLE_MARGIN
        start, end = 0.0, float(scene.track.frames)
        u0, v0 = self._focal(scene, 0.0)
        u1, v1 = self._focal(scene, 1.0)
        for x0, rate in ((u0, u1 - u0), (v0, v1 - v0)):
            if abs(rate) < 1e-12:
                if not lo < x0 < hi:
                    return 0, 0
                continue
            t_a, t_b = sorted(((lo - x0) / rate, (hi - x0) / rate))
            start, end = max(start, t_a), min(end, t_b)
        if start >= end:
            return 0, 0
        first = max(0, int(np.floor(start)) - 1)
        last = min(scene.track.frames, int(np.ceil(end)) + 1)
        frames = self.visible_frames(scene, first, last)
        return (int(frames[0]), int(frames[-1]) + 1) if frames.size else (0, 0)

    def visible_frames(self, scene: GroundScene, f0: int, f1: int) -> np.ndarray:
        frames = np.arange(f0, f1)
        u, v = self._focal(scene, frames + 0.5)
        lo, hi = FOCAL_MIN - VISIBLE_MARGIN, FOCAL_MAX + VISIBLE_MARGIN
        return frames[(u > lo) & (u < hi) & (v > lo) & (v < hi)]

    def light(self, f0: int, f1: int, scene: GroundScene):
        frames = self.visible_frames(scene, f0, f1)
        if frames.size == 0:
            return None
        u, v = self._focal(scene, frames + 0.5)
        return gaussian_spot(frames, u, v, np.full(frames.size, self.flux), self.sigma)

    def record(self, event_id: int, scene: GroundScene, span: tuple[int, int]) -> EventRecord:
        first, last = span[0], span[1] - 1
        return EventRecord.seen(
            event_id,
            self.kind,
            first,
            last,
            self._focal(scene, first + 0.5),
            self._focal(scene, last + 0.5),
            speed_px_per_frame=scene.track.drift,
            direction_deg=float(np.rad2deg(np.arctan2(-scene.track.cos, scene.track.sin))),
            peak_flux_per_gtu=self.flux / D3_GTUS,
        )


def sample_lights(
    rng: np.random.Generator, scene: GroundScene, psf_sigma: float
) -> list[GroundLight]:
    """Cities where the ground is land, ships where it is ocean, dimmed under clouds."""
    area = np.prod([hi - lo for lo, hi in (scene.track.a_range, scene.track.c_range)])
    lights = []
    for kind, density in (
        ("city", scene.conditions.city_density),
        ("ship", scene.conditions.ship_density),
    ):
        n = int(rng.poisson(density * area / 1000.0))
        a, c = scene.random_points(rng, n)
        land = scene.sample(scene.land, a, c)
        keep = rng.random(n) < (land if kind == "city" else 1.0 - land)
        a, c = a[keep], c[keep]
        cloud = scene.sample(scene.cloud, a, c)
        dimming = 1.0 - (1.0 - CLOUD_LIGHT_TRANSMISSION) * cloud
        if kind == "city":
            flux = np.exp(rng.uniform(*np.log(CITY_FLUX_PER_GTU), a.size))
            extent = np.exp(rng.uniform(*np.log(CITY_EXTENT_PX), a.size))
        else:
            flux = np.exp(rng.uniform(*np.log(SHIP_FLUX_PER_GTU), a.size))
            extent = np.zeros(a.size)
        sigma = np.hypot(psf_sigma, extent)
        lights += [
            GroundLight(
                kind,
                float(a[i]),
                float(c[i]),
                float(sigma[i]),
                float(flux[i] * dimming[i] * D3_GTUS),
            )
            for i in range(a.size)
        ]
    return lights
