"""Functions the background-process tests run in a child (importable by name there)."""

import os
import time
from pathlib import Path

from uvhunt._core.errors import UvhuntError


def count(n: int, progress) -> dict:
    with progress(n, "counting", "step") as bar:
        for _ in range(n):
            time.sleep(0.01)
            bar.update(1)
    return {"counted": n, "pid": os.getpid()}


def refuse(progress) -> None:
    raise UvhuntError("no sessions", path="/data/x", fix="simulate some", setting="sessions")


def crash(progress) -> None:
    return {}["missing"]


def die(progress) -> None:
    os._exit(3)


def sleep(seconds: float, progress) -> None:
    time.sleep(seconds)


def _torch_work(i: int) -> int:
    import torch  # as the evaluation's folds do: with it, an idle worker outlives the pool

    torch.set_num_threads(1)
    return abs(-i)


def pool_left_idle(progress) -> int:
    """Work in a loky pool, whose workers stay alive for reuse (300 s) afterwards."""
    from functools import partial

    from uvhunt._core.background import caller_waiting
    from uvhunt._core.processes import in_processes

    jobs = [partial(_torch_work, i) for i in range(10)]
    return sum(in_processes(jobs, 2, caller_waiting))  # as the evaluation uses it


def wait_for_the_caller(progress) -> tuple[bool, bool]:
    """``caller_waiting()`` at the start, and after the caller has begun to wait."""
    from uvhunt._core.background import caller_waiting

    before = caller_waiting()
    deadline = time.monotonic() + 30
    while not caller_waiting() and time.monotonic() < deadline:
        time.sleep(0.05)
    return before, caller_waiting()


def write_slowly(target: str, progress) -> None:
    """Write a folder atomically, slowly: stopped meanwhile, it must leave nothing behind."""
    from uvhunt._core.atomic import atomic_dir

    with atomic_dir(Path(target)) as tmp:
        (tmp / "half.txt").write_text("half")
        time.sleep(60)


def square(i: int) -> tuple[int, int]:
    time.sleep(0.05 * (i % 3))  # out of order
    return i * i, os.getpid()


def meet(folder: str, name: str, others: int, seconds: float) -> bool:
    """Leave a mark, then whether ``others`` other jobs left theirs within ``seconds``: they
    ran at the same time."""
    Path(folder, name).touch()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if len(list(Path(folder).iterdir())) > others:
            return True
        time.sleep(0.05)
    return False


def fail(i: int) -> int:
    if i == 2:
        raise ValueError("job 2 fails")
    return i


def environment(name: str) -> str | None:
    return os.environ.get(name)


def end_a_reaped_worker(progress) -> float:
    """The child's clean-up when one of its loky processes has died and been reaped behind
    its process object (as loky's executor does): seconds it took."""
    import multiprocessing
    import signal

    from joblib.externals.loky.backend.context import get_context

    from uvhunt._core import background

    worker = get_context("loky").Process(target=time.sleep, args=(60,))
    worker.start()
    os.kill(worker.pid, signal.SIGKILL)
    os.waitpid(worker.pid, 0)  # reaped here: loky's own waitpid now fails
    assert worker.is_alive() and worker in multiprocessing.active_children()
    start = time.monotonic()
    background._end_children()
    return time.monotonic() - start
