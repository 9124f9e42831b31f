"""Meteors: population, tracks and bell-shaped light curves.

Calibration (A&A 2024 on Mini-EUSO meteors; Zotov et al. 2023, Algorithms 16(9):448; see
docs/instrument.md): a magnitude +5 meteor moving 0.15 pixel/frame peaks at
900–2,000 raw D3 counts over the background in the pixels it crosses (7–15 σ), depending
on where the spot passes within the pixel; the detection limit is about magnitude +6.
With 3,000 counts of total light and a 0.45-pitch spot, a track through pixel centres
peaks at about 1,590 counts and one running between two pixel rows at about 1,050.
A meteor's light on the focal surface is a Gaussian spot of width ``psf_sigma_px`` whose
total light is ``peak_raw_counts_mag5 · 10^(-0.4 (M - 5))`` raw counts per D3 frame at the
peak of its light curve.
"""

from dataclasses import asdict, dataclass

import numpy as np

from uvhunt.euso.distributions import MagnitudeDistribution, TruncatedLognormal
from uvhunt.euso.events import EventRecord
from uvhunt.euso.geometry import FOCAL_MAX, FOCAL_MIN
from uvhunt.euso.render import gaussian_spot
from uvhunt.euso.timing import D3_GTUS, D3_S

MAX_RATE_PER_HOUR = 1e6
TRACK_MARGIN = 2.0
"""Track midpoints are drawn up to this many pitches beyond the focal surface's edges."""


@dataclass(frozen=True)
class MeteorConfig:
    """How meteors are drawn. Frames are D3 frames (40.96 ms)."""

    rate_per_hour: float = 30.0
    """Meteors brighter than ``visible_magnitude`` per hour in the field of view (≈30 are
    seen in real data). Fainter ones, down to ``faintest_magnitude``, come on top in the
    proportion the population index gives (twice as many again for r = 3)."""
    visible_magnitude: float = 6.0
    """Magnitude the rate refers to: about the detection limit."""
    brightest_magnitude: float = -1.0
    faintest_magnitude: float = 7.0
    """Faintest magnitude drawn: below the ≈+6 detection limit, so the data hold invisible ones."""
    population_index: float = 3.0
    """r in N(<M) ∝ r^M: each magnitude step holds r times more meteors."""
    duration_median_frames: float = 25.0
    duration_sigma_ln: float = 0.5
    duration_range_frames: tuple[float, float] = (6.0, 120.0)
    speed_median_px_per_frame: float = 0.15
    speed_sigma_ln: float = 0.6
    speed_range_px_per_frame: tuple[float, float] = (0.03, 1.5)
    peak_raw_counts_mag5: float = 3000.0
    """Total light of a magnitude +5 meteor at its peak, raw D3 counts per frame (all pixels)."""
    psf_sigma_px: float = 0.45
    """Width of the optical spot on the focal surface, pixel pitches."""
    substeps: int = 4
    """Positions per frame averaged for motion blur."""

    def validate(self) -> "MeteorConfig":
        if not 0 <= self.rate_per_hour <= MAX_RATE_PER_HOUR:
            raise ValueError(f"meteor rate_per_hour must be 0 … {MAX_RATE_PER_HOUR:g}")
        if not self.brightest_magnitude < self.visible_magnitude <= self.faintest_magnitude:
            raise ValueError("need brightest_magnitude < visible_magnitude <= faintest_magnitude")
        if not self.brightest_magnitude < self.faintest_magnitude:
            raise ValueError("brightest_magnitude must be below faintest_magnitude")
        if self.population_index <= 1.0:
            raise ValueError("population_index must be > 1")
        for name in ("duration_range_frames", "speed_range_px_per_frame"):
            low, high = getattr(self, name)
            if not 0 < low < high:
                raise ValueError(f"{name} must be 0 < low < high")
        if self.substeps < 1 or self.psf_sigma_px <= 0 or self.peak_raw_counts_mag5 <= 0:
            raise ValueError("substeps, psf_sigma_px and peak_raw_counts_mag5 must be positive")
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    def magnitudes(self) -> MagnitudeDistribution:
        return MagnitudeDistribution(
            self.population_index, self.brightest_magnitude, self.faintest_magnitude
        )

    def durations(self) -> TruncatedLognormal:
        return TruncatedLognormal(
            self.duration_median_frames, self.duration_sigma_ln, *self.duration_range_frames
        )

    def speeds(self) -> TruncatedLognormal:
        return TruncatedLognormal(
            self.speed_median_px_per_frame, self.speed_sigma_ln, *self.speed_range_px_per_frame
        )


@dataclass(frozen=True)
class Meteor:
    """One meteor. Times in frames (float), positions in focal coordinates (pixel pitches)."""

    start: float
    duration: float
    u_mid: float
    v_mid: float
    speed: float
    direction: float
    """Radians from the +v (column) axis towards +u (row)."""
    magnitude: float
    peak_at: float
    """Fraction of the duration at which the light curve peaks."""
    peak_flux: float
    """Total light at the peak, raw D3 counts per frame."""
    psf_sigma: float

    def position(self, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Focal position at time ``tau`` (frames)."""
        s = np.asarray(tau) - (self.start + 0.5 * self.duration)
        return (
            self.u_mid + s * self.speed * np.sin(self.direction),
            self.v_mid + s * self.speed * np.cos(self.direction),
        )

    def flux(self, tau: np.ndarray) -> np.ndarray:
        """Total light (raw counts per frame) at time ``tau``: an asymmetric bell, 0 outside."""
        s = (np.asarray(tau, float) - self.start) / self.duration
        width = np.where(s < self.peak_at, self.peak_at, 1.0 - self.peak_at) / 3.0
        bell = np.exp(-0.5 * ((s - self.peak_at) / width) ** 2)
        return np.where((s >= 0) & (s <= 1), self.peak_flux * bell, 0.0)

    @property
    def first_frame(self) -> int:
        return int(np.floor(self.start))

    @property
    def last_frame(self) -> int:
        return int(np.floor(self.start + self.duration))

    def light(self, f0: int, f1: int, substeps: int):
        """COO light (frame, row, col, raw counts) in frames [f0, f1)."""
        lo, hi = max(f0, self.first_frame), min(f1, self.last_frame + 1)
        frames = np.repeat(np.arange(lo, hi), substeps)
        if frames.size == 0:
            return None
        tau = frames + (np.tile(np.arange(substeps), hi - lo) + 0.5) / substeps
        u, v = self.position(tau)
        return gaussian_spot(frames, u, v, self.flux(tau) / substeps, self.psf_sigma)

    def record(self, event_id: int) -> EventRecord:
        return EventRecord.seen(
            event_id,
            "meteor",
            self.first_frame,
            self.last_frame,
            self.position(self.start),
            self.position(self.start + self.duration),
            magnitude=self.magnitude,
            duration_frames=self.duration,
            speed_px_per_frame=self.speed,
            direction_deg=float(np.rad2deg(self.direction)),
            peak_flux_per_gtu=self.peak_flux / D3_GTUS,
        )


def expected_meteor_count(config: MeteorConfig, frames: int) -> float:
    """Mean number of meteors (of every magnitude drawn) in a session of ``frames`` frames."""
    visible_share = float(config.magnitudes().cdf(config.visible_magnitude))
    return config.rate_per_hour / visible_share * frames * D3_S / 3600.0


def sample_meteors(rng: np.random.Generator, config: MeteorConfig, frames: int) -> list[Meteor]:
    """Draw the meteors of a session: Poisson count, then each one's parameters."""
    n = int(rng.poisson(expected_meteor_count(config, frames)))
    magnitude = config.magnitudes().rvs(rng, n)
    duration = config.durations().rvs(rng, n)
    speed = config.speeds().rvs(rng, n)
    start = rng.uniform(0.0, frames, n)
    mid = rng.uniform(FOCAL_MIN - TRACK_MARGIN, FOCAL_MAX + TRACK_MARGIN, (n, 2))
    direction = rng.uniform(0.0, 2 * np.pi, n)
    peak_at = rng.uniform(0.35, 0.8, n)
    peak_flux = config.peak_raw_counts_mag5 * 10.0 ** (-0.4 * (magnitude - 5.0))
    return [
        Meteor(
            float(start[i]),
            float(duration[i]),
            float(mid[i, 0]),
            float(mid[i, 1]),
            float(speed[i]),
            float(direction[i]),
            float(magnitude[i]),
            float(peak_at[i]),
            float(peak_flux[i]),
            config.psf_sigma_px,
        )
        for i in range(n)
    ]
