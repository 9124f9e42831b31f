"""Per-session observing conditions: each session has its own sky, ground and detector state.

Rates are mean photon counts per pixel per GTU (D1 frame, 2.5 µs); the session
generator multiplies by 16,384 to get raw D3 counts.
"""

from dataclasses import asdict, dataclass, fields

import numpy as np


@dataclass(frozen=True)
class Conditions:
    """The conditions of one session (drawn from ``ConditionRanges`` by the session seed)."""

    airglow_per_gtu: float
    """Night-sky airglow seen directly, counts/pixel/GTU."""
    moonlight_per_gtu: float
    """Moonlight reflected by a surface of albedo 1, counts/pixel/GTU (0 at new moon)."""
    land_fraction: float
    """Fraction of the ground track over land (the rest is ocean)."""
    cloud_cover: float
    """Fraction of the ground track under clouds."""
    city_density: float
    """City lights per 1,000 ground pixels of land."""
    ship_density: float
    """Ship lights per 1,000 ground pixels of ocean."""
    lightning_per_hour: float
    """Lightning flashes per hour inside the field of view (0 without storms)."""
    elves_per_hour: float
    """ELVES per hour inside the field of view."""
    drift_angle_deg: float
    """Angle between the focal-surface row axis and the ISS ground track, degrees."""
    pmt_gain_spread: float
    """Relative standard deviation of the 36 PMT gains."""
    hot_pixels: int
    """Pixels with a constant extra count rate."""
    dead_pixels: int
    """Pixels that count nothing."""
    dead_pmt: int
    """Index (0…35) of a PMT that is switched off, or -1 for none."""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Conditions":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class ConditionRanges:
    """How session conditions are drawn. Ranges are (low, high), uniform unless noted."""

    airglow_per_gtu: tuple[float, float] = (0.6, 1.1)
    moonlight_per_gtu: tuple[float, float] = (0.0, 4.0)
    new_moon_probability: float = 0.4
    land_fraction: tuple[float, float] = (0.0, 0.8)
    cloud_cover: tuple[float, float] = (0.0, 0.7)
    city_density: tuple[float, float] = (0.5, 4.0)
    ship_density: tuple[float, float] = (0.0, 0.6)
    storm_probability: float = 0.4
    lightning_per_hour: tuple[float, float] = (60.0, 900.0)
    """Log-uniform, in sessions with storms."""
    elves_per_hour: tuple[float, float] = (5.0, 60.0)
    """Log-uniform, in sessions with storms."""
    drift_angle_deg: tuple[float, float] = (0.0, 360.0)
    pmt_gain_spread: tuple[float, float] = (0.05, 0.15)
    hot_pixels: tuple[int, int] = (0, 4)
    dead_pixels: tuple[int, int] = (0, 6)
    dead_pmt_probability: float = 0.1

    def sample(self, rng: np.random.Generator) -> Conditions:
        def uniform(r: tuple[float, float]) -> float:
            return float(rng.uniform(*r))

        def log_uniform(r: tuple[float, float]) -> float:
            return float(np.exp(rng.uniform(np.log(r[0]), np.log(r[1]))))

        storm = rng.random() < self.storm_probability
        moon = 0.0 if rng.random() < self.new_moon_probability else uniform(self.moonlight_per_gtu)
        return Conditions(
            airglow_per_gtu=uniform(self.airglow_per_gtu),
            moonlight_per_gtu=moon,
            land_fraction=uniform(self.land_fraction),
            cloud_cover=uniform(self.cloud_cover),
            city_density=uniform(self.city_density),
            ship_density=uniform(self.ship_density),
            lightning_per_hour=log_uniform(self.lightning_per_hour) if storm else 0.0,
            elves_per_hour=log_uniform(self.elves_per_hour) if storm else 0.0,
            drift_angle_deg=uniform(self.drift_angle_deg),
            pmt_gain_spread=uniform(self.pmt_gain_spread),
            hot_pixels=int(rng.integers(self.hot_pixels[0], self.hot_pixels[1] + 1)),
            dead_pixels=int(rng.integers(self.dead_pixels[0], self.dead_pixels[1] + 1)),
            dead_pmt=int(rng.integers(0, 36)) if rng.random() < self.dead_pmt_probability else -1,
        )
