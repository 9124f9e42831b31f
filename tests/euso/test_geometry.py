import numpy as np
import pytest

from uvhunt.euso import geometry as g
from uvhunt.euso import timing as t


def test_timing_constants():
    assert t.D3_GTUS == 16384
    assert t.D2_S == pytest.approx(320e-6)
    assert t.D3_S == pytest.approx(40.96e-3)
    assert t.FRAMES_PER_HOUR == 87890


def test_focal_surface_layout():
    assert g.N_SIDE == 48 and g.N_PMT_SIDE == 6 and g.PMT_SIDE == 8
    assert g.FOCAL_EXTENT == 53
    assert g.PIXEL_CENTRES[7] == 7 and g.PIXEL_CENTRES[8] == 9 and g.PIXEL_CENTRES[47] == 52
    pmts = g.pmt_map()
    assert np.array_equal(np.bincount(pmts.ravel()), np.full(36, 64))
    assert pmts[0, 0] == 0 and pmts[0, 8] == 1 and pmts[8, 0] == 6 and pmts[47, 47] == 35


def test_drift_is_about_005_pixel_per_frame():
    assert g.DRIFT_PIXELS_PER_FRAME == pytest.approx(0.0498, abs=5e-4)


def test_pixel_and_focal_coordinates_round_trip():
    i = np.linspace(-0.49, 47.49, 1000)
    np.testing.assert_allclose(g.focal_to_pixel(g.pixel_to_focal(i)), i, atol=1e-12)


def test_points_in_a_gap_map_to_the_pmt_edge():
    assert g.focal_to_pixel(8.0) == pytest.approx(7.5)
    assert g.nearest_pixel(np.array([7.8, 8.2, 8.6, -3.0, 60.0])).tolist() == [7, 8, 8, 0, 47]
