"""Independent jobs in worker processes, with one worker more while a core is spare.

``uvhunt run`` evaluates in a background process beside the firmware stages, two folds at a
time; once those stages are done, the machine's other core would wait for the last fold
alone. ``in_processes(..., spare=caller_waiting)`` starts the next job as soon as the caller
waits, so that core works too. The results do not depend on how many workers ran them.
"""

import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, wait

from joblib.executor import get_memmapping_executor

_POLL_SECONDS = 1.0
"""How often the scheduler asks ``spare`` while jobs run, seconds."""
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMBA_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
"""Thread pools limited in the workers, as joblib's process backend does: a library loaded
after a job's own limits (threadpoolctl) would otherwise start a thread per core."""


def in_processes(
    jobs: list[Callable[[], object]],
    workers: int,
    spare: Callable[[], bool] | None = None,
    done: Callable[[], None] | None = None,
) -> list:
    """Each job (a picklable call without arguments) run in a worker process, at most
    ``workers`` at once, one more while ``spare()`` is true; their results in the jobs'
    order. ``done()`` after each job. A job's exception is raised here once it fails (jobs
    not yet started are not started). ``workers`` 1 and no ``spare``: in this process."""
    if workers == 1 and spare is None:
        results = []
        for job in jobs:
            results.append(job())
            if done:
                done()
        return results
    most = workers + (spare is not None)
    threads = str(max(1, (os.cpu_count() or 1) // most))
    env = {name: os.environ.get(name, threads) for name in THREAD_VARIABLES}
    executor = get_memmapping_executor(most, env=env)  # joblib's own, which Parallel reuses
    waiting = list(enumerate(jobs))
    running: dict = {}
    results: list = [None] * len(jobs)
    while waiting or running:
        limit = workers + bool(spare is not None and spare())
        while waiting and len(running) < limit:
            index, job = waiting.pop(0)
            running[executor.submit(job)] = index
        finished, _ = wait(running, timeout=_POLL_SECONDS, return_when=FIRST_COMPLETED)
        for future in finished:
            results[running.pop(future)] = future.result()
            if done:
                done()
    return results
