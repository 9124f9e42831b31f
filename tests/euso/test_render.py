import numpy as np
import pytest
from scipy.special import ndtr

from uvhunt.euso.geometry import PIXEL_CENTRES
from uvhunt.euso.render import gaussian_spot, merge_coo


def test_spot_inside_a_pmt_keeps_all_its_light():
    frame, row, col, counts = gaussian_spot(
        np.array([0]),
        np.array([PIXEL_CENTRES[20]]),
        np.array([PIXEL_CENTRES[28]]),
        np.array([1000.0]),
        sigma=0.45,
    )
    assert counts.sum() == pytest.approx(1000.0, rel=1e-6)
    brightest = np.argmax(counts)
    assert (row[brightest], col[brightest]) == (20, 28)
    centre_fraction = (ndtr(0.5 / 0.45) - ndtr(-0.5 / 0.45)) ** 2
    assert counts.max() == pytest.approx(1000.0 * centre_fraction, rel=1e-9)


def test_light_falling_into_a_pmt_gap_is_lost():
    gap_centre = (PIXEL_CENTRES[7] + PIXEL_CENTRES[8]) / 2
    *_, counts = gaussian_spot(
        np.array([0]),
        np.array([gap_centre]),
        np.array([PIXEL_CENTRES[20]]),
        np.array([1000.0]),
        sigma=0.45,
    )
    lost = ndtr(0.5 / 0.45) - ndtr(-0.5 / 0.45)
    assert counts.sum() == pytest.approx(1000.0 * (1 - lost), rel=1e-6)


def test_spot_off_the_focal_surface_gives_nothing():
    *_, counts = gaussian_spot(
        np.array([0]), np.array([-20.0]), np.array([10.0]), np.array([1000.0]), sigma=0.45
    )
    assert counts.sum() == pytest.approx(0.0, abs=1e-9)


def test_merge_coo_sums_repeated_entries():
    f, r, c, x = merge_coo(
        np.array([1, 1, 2]), np.array([3, 3, 3]), np.array([4, 4, 4]), np.array([1.0, 2.0, 5.0])
    )
    assert f.tolist() == [1, 2] and r.tolist() == [3, 3] and c.tolist() == [4, 4]
    assert x.tolist() == [3.0, 5.0]
