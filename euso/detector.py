"""The detector's own imperfections: PMT gains, pixel efficiencies, dead and hot pixels."""

from dataclasses import dataclass

import numpy as np

from uvhunt.euso.conditions import Conditions
from uvhunt.euso.geometry import N_PIXELS, N_SIDE, pmt_map
from uvhunt.euso.timing import D3_GTUS

PIXEL_EFFICIENCY_SPREAD = 0.05
"""Relative spread of pixel efficiencies inside one PMT."""
HOT_PIXEL_RATE_PER_GTU = (0.5, 20.0)
"""Extra counts per GTU of a hot pixel (log-uniform)."""


@dataclass(frozen=True)
class Detector:
    efficiency: np.ndarray
    """48×48 relative efficiency (PMT gain × pixel efficiency; 0 = dead)."""
    hot_rate: np.ndarray
    """48×48 extra counts per D3 frame (raw) of hot pixels; 0 elsewhere."""

    @property
    def hot_pixels(self) -> list[tuple[int, int]]:
        return [tuple(int(i) for i in p) for p in np.argwhere(self.hot_rate > 0)]

    @property
    def dead_pixels(self) -> list[tuple[int, int]]:
        return [tuple(int(i) for i in p) for p in np.argwhere(self.efficiency == 0)]


def sample_detector(rng: np.random.Generator, conditions: Conditions) -> Detector:
    gains = np.clip(rng.normal(1.0, conditions.pmt_gain_spread, 36), 0.3, None)
    efficiency = gains[pmt_map()] * np.clip(
        rng.normal(1.0, PIXEL_EFFICIENCY_SPREAD, (N_SIDE, N_SIDE)), 0.3, None
    )
    dead = rng.choice(N_PIXELS, conditions.dead_pixels, replace=False)
    efficiency.flat[dead] = 0.0
    if conditions.dead_pmt >= 0:
        efficiency[pmt_map() == conditions.dead_pmt] = 0.0
    hot_rate = np.zeros((N_SIDE, N_SIDE))
    hot = rng.choice(np.flatnonzero(efficiency > 0), conditions.hot_pixels, replace=False)
    low, high = np.log(HOT_PIXEL_RATE_PER_GTU)
    hot_rate.flat[hot] = np.exp(rng.uniform(low, high, hot.size)) * D3_GTUS
    return Detector(efficiency=efficiency, hot_rate=hot_rate)
