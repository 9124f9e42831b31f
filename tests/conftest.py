"""Shared fixtures (for tests/ and firmware_tests/): small simulated sessions and window
data sets, written once per test session."""

import pytest

from uvhunt.euso.meteors import MeteorConfig
from uvhunt.euso.readers import open_movie
from uvhunt.euso.session import SessionConfig, SessionSimulator
from uvhunt.euso.store import open_session, write_session
from uvhunt.euso.window_store import write_window_dataset
from uvhunt.euso.windows import WindowConfig


@pytest.fixture(scope="session")
def small_config() -> SessionConfig:
    """1,024 frames with a high meteor rate, so that a few meteors are bright."""
    return SessionConfig(frames=1024, meteors=MeteorConfig(rate_per_hour=1500.0))


@pytest.fixture(scope="session")
def session_folder(tmp_path_factory, small_config):
    folder = tmp_path_factory.mktemp("sessions") / "session_a"
    write_session(SessionSimulator(small_config, seed=11), folder)
    return folder


@pytest.fixture(scope="session")
def stored_session(session_folder):
    return open_session(session_folder)


@pytest.fixture(scope="session")
def window_folder(tmp_path_factory):
    """A small labelled window data set: three short sessions rich in meteors."""
    root = tmp_path_factory.mktemp("quant_data")
    config = SessionConfig(frames=1024, meteors=MeteorConfig(rate_per_hour=4000.0))
    movies = []
    for seed in range(3):
        write_session(SessionSimulator(config, seed), root / f"session_{seed:02d}")
        movies.append(open_movie(root / f"session_{seed:02d}"))
    write_window_dataset(movies, root / "windows", WindowConfig(stride=24))
    return root / "windows"
