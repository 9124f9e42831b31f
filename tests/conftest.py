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


@pytest.fixture(scope="session")
def dask_scheduler(tmp_path_factory):
    """A real Dask cluster apart from the tests' process: `dask scheduler` and two
    `dask worker` processes of one thread each, as a user starts them; yields the scheduler's
    address (tcp://HOST:PORT)."""
    import json
    import subprocess
    import sys
    import time

    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    logs = [open(folder / f"{name}.log", "w") for name in ("scheduler", "worker-0", "worker-1")]
    dask = [sys.executable, "-m", "dask"]
    processes = [
        subprocess.Popen(
            [
                *dask,
                "scheduler",
                "--scheduler-file",
                str(scheduler_file),
                "--port",
                "0",
                "--no-dashboard",
                "--host",
                "127.0.0.1",
            ],
            stdout=logs[0],
            stderr=subprocess.STDOUT,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert scheduler_file.exists(), (folder / "scheduler.log").read_text()
        processes += [
            subprocess.Popen(
                [
                    *dask,
                    "worker",
                    "--scheduler-file",
                    str(scheduler_file),
                    "--nthreads",
                    "1",
                    "--nworkers",
                    "1",
                    "--no-dashboard",
                    "--name",
                    f"w{i}",
                    "--no-nanny",
                ],
                stdout=logs[1 + i],
                stderr=subprocess.STDOUT,
            )
            for i in range(2)
        ]
        from distributed import Client

        address = json.loads(scheduler_file.read_text())["address"]
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=90)
        yield address
    finally:
        for p in reversed(processes):
            p.terminate()
        for p in processes:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        for f in logs:
            f.close()
