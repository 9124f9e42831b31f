import os
from functools import partial
from pathlib import Path

import pytest

from tests import background_tasks as tasks
from uvhunt._core.processes import in_processes


@pytest.fixture(autouse=True)
def importable_jobs(monkeypatch):
    """The workers import ``tests.background_tasks`` by name: the project's root on their
    path."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))


def test_results_come_in_the_jobs_order_from_other_processes():
    done = []
    results = in_processes(
        [partial(tasks.square, i) for i in range(8)], 2, lambda: False, lambda: done.append(1)
    )
    assert [r[0] for r in results] == [i * i for i in range(8)]
    assert os.getpid() not in {r[1] for r in results}
    assert len(done) == 8


def test_one_worker_without_a_spare_runs_here():
    results = in_processes([partial(tasks.square, i) for i in range(3)], 1)
    assert [r for r, _ in results] == [0, 1, 4] and {p for _, p in results} == {os.getpid()}


def test_a_spare_core_runs_one_job_more(tmp_path):
    three = [partial(tasks.meet, str(tmp_path / "a"), str(i), 2, 20.0) for i in range(3)]
    (tmp_path / "a").mkdir()
    assert in_processes(three, 2, lambda: True) == [True] * 3  # all three at once
    two = [partial(tasks.meet, str(tmp_path / "b"), str(i), 1, 3.0) for i in range(2)]
    (tmp_path / "b").mkdir()
    # without the spare, one worker: the second job starts after the first gave up
    assert in_processes(two, 1, lambda: False) == [False, True]


def test_a_failing_job_raises_here():
    with pytest.raises(ValueError, match="job 2 fails"):
        in_processes([partial(tasks.fail, i) for i in range(4)], 2, lambda: False)


def test_the_workers_thread_pools_are_limited_as_joblib_limits_them():
    from uvhunt._core.processes import THREAD_VARIABLES

    seen = in_processes([partial(tasks.environment, v) for v in THREAD_VARIABLES], 2, lambda: False)
    cores = os.cpu_count() or 1
    assert seen == [os.environ.get(v, str(max(1, cores // 3))) for v in THREAD_VARIABLES]
