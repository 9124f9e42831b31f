import os
import time
from pathlib import Path

import pytest

from tests import background_tasks
from uvhunt._core import background
from uvhunt._core.background import Background
from uvhunt._core.errors import UvhuntError


@pytest.fixture(autouse=True)
def importable_tasks(monkeypatch):
    """The child imports ``tests.background_tasks`` by name: the project's root on its path
    (spawned children start with the caller's ``sys.path``)."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1]))


class Recorder:
    """A progress factory that records what its bars were told."""

    def __init__(self):
        self.events = []

    def __call__(self, total, desc, unit):
        recorder = self

        class Bar:
            def __enter__(self):
                recorder.events.append(("open", total, desc, unit))
                return self

            def update(self, n=1):
                recorder.events.append(("update", n))

            def __exit__(self, *exc):
                recorder.events.append(("close",))

        return Bar()


def test_the_result_comes_back_from_another_process_with_its_progress():
    work = Background(background_tasks.count, 25)
    time.sleep(1.0)  # the caller goes on; the child's bar events wait in the queue
    recorder = Recorder()
    result = work.result(recorder)
    assert result["counted"] == 25 and result["pid"] != os.getpid()
    assert recorder.events[0] == ("open", 25, "counting", "step")
    assert recorder.events[1:-1] == [("update", 1)] * 25
    assert recorder.events[-1] == ("close",)


def test_a_uvhunt_error_comes_back_whole():
    with pytest.raises(UvhuntError) as caught:
        Background(background_tasks.refuse).result(Recorder())
    exc = caught.value
    assert (exc.problem, exc.path, exc.fix, exc.setting) == (
        "no sessions",
        "/data/x",
        "simulate some",
        "sessions",
    )


def test_a_bug_comes_back_with_its_traceback():
    with pytest.raises(RuntimeError, match=r"(?s)background process failed.*in crash.*KeyError"):
        Background(background_tasks.crash).result(Recorder())


def test_a_child_that_dies_is_an_error_not_a_hang():
    with pytest.raises(RuntimeError, match="ended without a result .exit code 3"):
        Background(background_tasks.die).result(Recorder())


def test_stop_ends_the_child():
    work = Background(background_tasks.sleep, 60.0)
    start = time.monotonic()
    work.stop()
    assert time.monotonic() - start < 20
    with pytest.raises(RuntimeError, match="ended without a result"):
        work.result(Recorder())


def test_a_worker_pool_left_idle_does_not_hold_the_child_open():
    work = Background(background_tasks.pool_left_idle)
    assert work.result(Recorder()) == 45
    # the child ends by itself within the caller's grace after its result (exit code 0), not
    # stopped when the grace runs out: joblib's idle workers would hold it 300 s. Its time is
    # not the test: the pool's work takes longer on a machine busy with other tests.
    assert work.exit_code == 0


def test_a_worker_reaped_behind_its_back_does_not_break_the_child():
    # a loky worker has no kill(), and one reaped elsewhere stays "alive": the child once
    # raised AttributeError here, after sending its result, with a traceback in the run's log
    seconds = Background(background_tasks.end_a_reaped_worker).result(Recorder())
    assert seconds < 2.0  # its sentinel says it has exited: no grace waited out


def test_the_child_knows_when_its_caller_waits():
    work = Background(background_tasks.wait_for_the_caller)
    time.sleep(3.0)  # the child has started and looked before the caller waits
    assert work.result(Recorder()) == (False, True)
    assert not background.caller_waiting()  # not a Background child


def test_a_stopped_child_leaves_no_half_written_output(tmp_path):
    work = Background(background_tasks.write_slowly, str(tmp_path / "out"))
    deadline = time.monotonic() + 30
    while not any(tmp_path.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [p.name for p in tmp_path.iterdir()][0].startswith(".out.partial-")
    work.stop()
    assert list(tmp_path.iterdir()) == []
