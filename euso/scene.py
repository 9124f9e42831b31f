"""The ground scene under the ISS: ocean, land, clouds, airglow and moonlight, drifting.

Ground coordinates ``(a, c)`` are in pixel pitches on the ground (one pitch ≈ 6.3 km):
``a`` runs along the ISS ground track, ``c`` across it. The focal surface sees the ground
through a rotation by the session's drift angle and a shift of
``DRIFT_PIXELS_PER_FRAME`` pitches along ``a`` per D3 frame.
"""

import numpy as np
from scipy.ndimage import gaussian_filter, map_coordinates

from uvhunt.euso.conditions import Conditions
from uvhunt.euso.geometry import DRIFT_PIXELS_PER_FRAME, FOCAL_EXTENT, PIXEL_CENTRES

OCEAN_ALBEDO = 0.05
LAND_ALBEDO = (0.10, 0.25)
"""Range of land albedo in the UV (varies smoothly over the ground)."""
CLOUD_ALBEDO = 0.7
CLOUD_LIGHT_TRANSMISSION = 0.3
"""Fraction of a ground light's UV that passes a thick cloud."""
FOCAL_CENTRE = float(PIXEL_CENTRES[-1]) / 2.0
"""Focal coordinate of the centre of the field of view, pixel pitches."""


class GroundTrack:
    """Maps between focal coordinates at time ``t`` (frames) and ground coordinates."""

    def __init__(self, frames: int, drift_angle_deg: float, drift: float = DRIFT_PIXELS_PER_FRAME):
        self.frames = frames
        self.drift = drift
        angle = np.deg2rad(drift_angle_deg)
        self.cos, self.sin = float(np.cos(angle)), float(np.sin(angle))
        self.margin = 0.75 * FOCAL_EXTENT + 4.0
        self.a_range = (-self.margin, drift * frames + self.margin)
        self.c_range = (-self.margin, self.margin)

    def focal_to_ground(self, u, v, t):
        du, dv = np.asarray(u) - FOCAL_CENTRE, np.asarray(v) - FOCAL_CENTRE
        a = self.cos * du - self.sin * dv + self.drift * np.asarray(t)
        c = self.sin * du + self.cos * dv
        return a, c

    def ground_to_focal(self, a, c, t):
        da = np.asarray(a) - self.drift * np.asarray(t)
        c = np.asarray(c)
        u = self.cos * da + self.sin * c + FOCAL_CENTRE
        v = -self.sin * da + self.cos * c + FOCAL_CENTRE
        return u, v


def _smooth_field(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Smooth Gaussian random field with unit standard deviation."""
    field = gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap")
    return field / max(float(field.std()), 1e-12)


def _cover(field: np.ndarray, fraction: float, softness: float) -> np.ndarray:
    """0…1 map covering about ``fraction`` of the area, with soft edges."""
    if fraction <= 0.0:
        return np.zeros_like(field)
    if fraction >= 1.0:
        return np.ones_like(field)
    threshold = np.quantile(field, 1.0 - fraction)
    return np.clip((field - threshold) / softness + 0.5, 0.0, 1.0)


class GroundScene:
    """Diffuse background of one session: airglow plus light reflected by ground and clouds.

    ``background_per_gtu(u, v, t)`` gives counts/pixel/GTU before the detector's efficiency.
    """

    GRID = 1.0
    """Grid spacing of the scene maps, ground pixel pitches."""

    def __init__(self, track: GroundTrack, conditions: Conditions, rng: np.random.Generator):
        self.track = track
        self.conditions = conditions
        n_a = int(np.ceil((track.a_range[1] - track.a_range[0]) / self.GRID)) + 2
        n_c = int(np.ceil((track.c_range[1] - track.c_range[0]) / self.GRID)) + 2
        land_noise = _smooth_field(rng, (n_a, n_c), sigma=20.0)
        self.land = _cover(land_noise, conditions.land_fraction, softness=0.15)
        cloud_noise = _smooth_field(rng, (n_a, n_c), sigma=5.0)
        cloud_noise += 0.3 * _smooth_field(rng, (n_a, n_c), sigma=1.5)
        self.cloud = _cover(cloud_noise, conditions.cloud_cover, softness=0.4)
        land_albedo = LAND_ALBEDO[0] + (LAND_ALBEDO[1] - LAND_ALBEDO[0]) * (
            0.5 + 0.5 * np.tanh(_smooth_field(rng, (n_a, n_c), sigma=8.0))
        )
        ground = OCEAN_ALBEDO + (land_albedo - OCEAN_ALBEDO) * self.land
        self.albedo = ground * (1.0 - self.cloud) + CLOUD_ALBEDO * self.cloud
        c = conditions
        self.rate = c.airglow_per_gtu * (1.0 + self.albedo) + c.moonlight_per_gtu * self.albedo

    def _grid_index(self, a, c):
        return (
            (np.asarray(a) - self.track.a_range[0]) / self.GRID,
            (np.asarray(c) - self.track.c_range[0]) / self.GRID,
        )

    def sample(self, grid: np.ndarray, a, c) -> np.ndarray:
        """Bilinear value of a scene map at ground points."""
        ia, ic = self._grid_index(a, c)
        shape = np.shape(ia)
        out = map_coordinates(grid, [np.ravel(ia), np.ravel(ic)], order=1, mode="nearest")
        return out.reshape(shape)

    def background_per_gtu(self, frames: np.ndarray) -> np.ndarray:
        """Diffuse background at every pixel centre, mid-frame, counts/GTU: (T, 48, 48)."""
        t = np.asarray(frames, float)[:, None, None] + 0.5
        u = PIXEL_CENTRES[None, :, None]
        v = PIXEL_CENTRES[None, None, :]
        a, c = self.track.focal_to_ground(u, v, t)
        a, c = np.broadcast_arrays(a, c)
        return self.sample(self.rate, a, c)

    def random_points(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` ground points uniform over the scene."""
        a = rng.uniform(*self.track.a_range, size=n)
        c = rng.uniform(*self.track.c_range, size=n)
        return a, c
