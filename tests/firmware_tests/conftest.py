"""Fixtures of the hardware co-simulation tests: one briefly trained model, exported."""

import pytest

from tests.fast_training import TRAIN_FLAGS, train_and_export

TRAIN = [*TRAIN_FLAGS, "--hidden", "16,8", "--no-peak-input"]
"""The default bit widths on a 48-16-8-1 network of the window's codes only: fast to build and
to simulate (the default's peak input has its own chain tests, test_peak_input.py)."""


@pytest.fixture(scope="session")
def trained(window_folder, tmp_path_factory):
    """A folder holding ``model/`` (uvhunt train) and ``export/`` (uvhunt export)."""
    return train_and_export(window_folder, tmp_path_factory.mktemp("trained"), TRAIN)
