"""Truncated distributions used to draw event parameters (sampled by inverse CDF)."""

import numpy as np
from scipy import stats


class TruncatedLognormal:
    """Lognormal with the given median and log-sigma, truncated to [low, high]."""

    def __init__(self, median: float, sigma_ln: float, low: float, high: float):
        self.low, self.high = float(low), float(high)
        self._base = stats.lognorm(s=sigma_ln, scale=median)
        self._f_low, self._f_high = self._base.cdf(low), self._base.cdf(high)

    def cdf(self, x):
        x = np.clip(np.asarray(x, float), self.low, self.high)
        return (self._base.cdf(x) - self._f_low) / (self._f_high - self._f_low)

    def rvs(self, rng: np.random.Generator, size: int) -> np.ndarray:
        u = rng.random(size)
        return self._base.ppf(self._f_low + u * (self._f_high - self._f_low))


class MagnitudeDistribution:
    """Meteor magnitudes with N(<M) ∝ r^M (population index r), on [brightest, faintest]."""

    def __init__(self, population_index: float, brightest: float, faintest: float):
        self.rate = float(np.log(population_index))
        self.low, self.high = float(brightest), float(faintest)

    def cdf(self, m):
        m = np.clip(np.asarray(m, float), self.low, self.high)
        return np.expm1(self.rate * (m - self.low)) / np.expm1(self.rate * (self.high - self.low))

    def rvs(self, rng: np.random.Generator, size: int) -> np.ndarray:
        u = rng.random(size)
        return self.low + np.log1p(u * np.expm1(self.rate * (self.high - self.low))) / self.rate
