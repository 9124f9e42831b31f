import hashlib
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from uvhunt.euso.geometry import PIXEL_CENTRES
from uvhunt.euso.meteors import Meteor, MeteorConfig, expected_meteor_count
from uvhunt.euso.session import CHUNK_FRAMES, SessionConfig, SessionSimulator
from uvhunt.euso.store import write_session
from uvhunt.euso.timing import D3_GTUS


def test_same_seed_same_session_and_blocks_do_not_depend_on_order(small_config):
    a, b = SessionSimulator(small_config, 5), SessionSimulator(small_config, 5)
    later_first = b.chunk(1)
    earlier = b.chunk(0)
    np.testing.assert_array_equal(a.chunk(0).counts, earlier.counts)
    np.testing.assert_array_equal(a.chunk(1).counts, later_first.counts)
    np.testing.assert_array_equal(a.chunk(1).truth.counts, later_first.truth.counts)
    assert [e.to_dict() for e in a.events] == [e.to_dict() for e in b.events]


def test_different_seeds_differ(small_config):
    a, b = SessionSimulator(small_config, 1), SessionSimulator(small_config, 2)
    assert a.conditions != b.conditions
    assert not np.array_equal(a.chunk(0).counts, b.chunk(0).counts)


def test_written_session_is_reproducible(tmp_path, small_config):
    config = replace(small_config, frames=600)

    def digest(folder):
        write_session(SessionSimulator(config, 3), folder)
        return {
            n: hashlib.sha256((folder / n).read_bytes()).hexdigest()
            for n in ("movie.npy", "truth.npz", "events.csv")
        }

    assert digest(tmp_path / "a") == digest(tmp_path / "b")


def test_background_counts_are_poisson_at_the_set_level():
    """Nine sessions: standardised residuals have mean 0 and variance 1 (Poisson: var = mean)."""
    residuals = []
    for seed in range(9):
        sim = SessionSimulator(SessionConfig(frames=CHUNK_FRAMES), seed)
        expected, _ = sim.expected(0)
        counts = sim.chunk(0).counts.astype(float)
        live = expected > 0
        assert np.all(counts[~live] == 0), "dead pixels must count nothing"
        residuals.append((counts[live] - expected[live]) / np.sqrt(expected[live]))
        per_gtu = np.median(expected[live]) / D3_GTUS
        assert 0.5 < per_gtu < 6.0, f"night background of {per_gtu} counts/GTU is implausible"
    r = np.concatenate(residuals)
    n = r.size
    assert abs(r.mean()) < 5 / np.sqrt(n)
    assert abs(r.var() - 1.0) < 5 * np.sqrt(2 / n)


def test_meteor_counts_follow_the_configured_poisson_rate():
    frames = 1024
    config = SessionConfig(frames=frames, meteors=MeteorConfig(rate_per_hour=90.0))
    mean = expected_meteor_count(config.meteors, frames)
    counts = np.array(
        [sum(e.kind == "meteor" for e in SessionSimulator(config, s).events) for s in range(300)]
    )
    assert abs(counts.mean() - mean) < 4 * np.sqrt(mean / counts.size)
    visible = np.array(
        [
            sum(
                e.kind == "meteor" and e.magnitude < 6.0 for e in SessionSimulator(config, s).events
            )
            for s in range(300)
        ]
    )
    visible_mean = config.meteors.rate_per_hour * frames * 0.04096 / 3600  # the configured rate
    assert abs(visible.mean() - visible_mean) < 4 * np.sqrt(visible_mean / visible.size)
    k = np.arange(8)
    observed = np.array([*(np.sum(counts == i) for i in k[:-1]), np.sum(counts >= k[-1])])
    probability = np.r_[stats.poisson.pmf(k[:-1], mean), stats.poisson.sf(k[-2], mean)]
    assert stats.chisquare(observed, probability * counts.size).pvalue > 1e-3


@pytest.fixture(scope="module")
def many_meteors():
    config = SessionConfig(frames=8192, meteors=MeteorConfig(rate_per_hour=3000.0))
    meteors = [
        e for s in range(12) for e in SessionSimulator(config, s).events if e.kind == "meteor"
    ]
    assert len(meteors) > 3000
    return config.meteors, meteors


def test_meteor_durations_speeds_and_magnitudes_follow_their_configuration(many_meteors):
    config, meteors = many_meteors
    for name, distribution in (
        ("magnitude", config.magnitudes()),
        ("speed_px_per_frame", config.speeds()),
        ("duration_frames", config.durations()),
    ):
        values = np.array([getattr(e, name) for e in meteors])
        assert stats.kstest(values, distribution.cdf).pvalue > 1e-3, name
    for e in meteors:
        if e.end_frame == 8191:
            continue  # cut by the end of the session
        assert e.end_frame - e.start_frame in (int(e.duration_frames), int(e.duration_frames) + 1)


@pytest.mark.parametrize("offset", [0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
def test_magnitude_5_meteor_peaks_at_900_to_2000_counts_in_the_pixels_it_crosses(offset):
    """FACTS.md: a simulated +5 meteor at 0.15 pixel/frame peaked 900–2,000 raw counts over
    the background, wherever its track runs across the pixels (offset from a pixel centre)."""
    config = MeteorConfig()
    meteor = Meteor(
        start=0.0,
        duration=30.0,
        u_mid=PIXEL_CENTRES[20] + offset,
        v_mid=PIXEL_CENTRES[20],
        speed=0.15,
        direction=0.0,
        magnitude=5.0,
        peak_at=0.5,
        peak_flux=config.peak_raw_counts_mag5,
        psf_sigma=config.psf_sigma_px,
    )
    frame, row, col, counts = meteor.light(0, 31, config.substeps)
    light = np.zeros((31, 48, 48))
    np.add.at(light, (frame, row, col), counts)
    assert 900 <= light.max() <= 2000
    curve = light[:, 20, 20]
    assert np.argmax(curve) in (14, 15)  # bell-shaped, peaking mid-way
    assert curve[0] < 0.05 * curve.max() and curve[-1] < 0.05 * curve.max()


def test_truth_expected_matches_the_rendered_expectation(small_config):
    sim = SessionSimulator(small_config, 11)
    expected, _ = sim.expected(0)
    truth = sim.chunk(0).truth
    np.testing.assert_allclose(
        truth.expected, expected[truth.frame, truth.row, truth.col], rtol=1e-6
    )
    assert np.all(truth.counts <= truth.expected * (1 + 1e-6))
    assert np.all(truth.counts > 0)
