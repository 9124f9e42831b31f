"""Shared fixtures: small simulated sessions, written once per test session."""

import pytest

from euso.meteors import MeteorConfig
from euso.session import SessionConfig, SessionSimulator
from euso.store import open_session, write_session


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
