"""Dask, uvhunt's one engine for work that outgrows a process: a local cluster of worker
processes by default, or an existing ``dask.distributed`` cluster by its scheduler's address
(``tcp://HOST:PORT``) or scheduler file (the JSON that ``dask scheduler --scheduler-file``,
dask-jobqueue and dask-mpi write). The same code path serves both: tasks are submitted to a
``Client`` and gathered as they finish, with one progress bar over tasks.

Tasks must be importable functions of uvhunt (workers import them by name) and read and
write only paths every worker sees: on a cluster, a shared file system."""

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from uvhunt._core.errors import UvhuntError
from uvhunt._core.progress import ProgressFactory, no_progress

DEFAULT_WORKERS = 2
"""Worker processes of the local cluster (the reference machine has 2 cores)."""
CONNECT_TIMEOUT_S = 20
"""Seconds to wait for an existing scheduler."""


@dataclass(frozen=True)
class TaskOutcome:
    """One task's result, or the error that stopped it."""

    index: int
    """Position of the task's item in the submitted list."""
    result: object = None
    error: str | None = None
    """The exception's message, when the task failed."""
    exception: BaseException | None = None


def check_workers(workers: int) -> None:
    if workers < 1:
        raise UvhuntError(
            f"a local cluster needs at least one worker (got {workers})",
            fix="use --workers 1 or more",
            setting="workers",
        )


@contextlib.contextmanager
def dask_client(workers: int = DEFAULT_WORKERS, scheduler: str | None = None) -> Iterator:
    """A ``distributed.Client``: on the scheduler ``scheduler`` (an address or a scheduler
    file) when given, else on a local cluster of ``workers`` processes of one thread each."""
    from distributed import Client, LocalCluster

    if scheduler:
        target = _scheduler_target(scheduler)
        try:
            client = Client(**target, timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, TimeoutError) as exc:
            raise UvhuntError(
                f"cannot reach the Dask scheduler {scheduler}: {exc}",
                fix="start one (`dask scheduler`, then `dask worker ADDRESS` on each machine) "
                "and give its tcp://HOST:PORT or scheduler file, or leave the scheduler out "
                "for a local cluster",
                setting="scheduler",
            ) from exc
        with client:
            yield client
        return
    check_workers(workers)
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.CRITICAL,  # a failed task is reported by the command, once
    )
    with cluster, Client(cluster) as client:
        yield client


def _scheduler_target(scheduler: str) -> dict:
    """``Client`` arguments for an address or a scheduler file."""
    if "://" in scheduler:
        return {"address": scheduler}
    path = Path(scheduler)
    if not path.is_file():
        raise UvhuntError(
            "not a scheduler address nor a scheduler file",
            path=scheduler,
            fix="give tcp://HOST:PORT, or the JSON file `dask scheduler --scheduler-file` wrote",
            setting="scheduler",
        )
    return {"scheduler_file": str(path)}


def describe(client) -> dict:
    """The cluster a client works on: scheduler address, workers and their threads."""
    info = client.scheduler_info()
    workers = info.get("workers", {})
    return {
        "scheduler": info.get("address"),
        "workers": len(workers),
        "threads": sum(int(w.get("nthreads", 0)) for w in workers.values()),
    }


def run_tasks(
    client,
    function: Callable,
    items: Sequence,
    progress: ProgressFactory | None = None,
    desc: str = "tasks",
    unit: str = "task",
    keep_going: bool = False,
    advance: Callable[[int], object] | None = None,
) -> list[TaskOutcome]:
    """``function(item)`` for every item on the cluster, one task each; the outcomes in the
    items' order. A task's exception is raised at once (the others cancelled) unless
    ``keep_going``, which records it in its outcome and goes on. Progress in tasks: a bar of
    its own, or ``advance(1)`` per task on a caller's bar."""
    if advance is not None:
        return _gather(client, function, items, desc, keep_going, advance)
    with (progress or no_progress)(len(items), desc, unit) as bar:
        return _gather(client, function, items, desc, keep_going, bar.update)


def _gather(client, function, items, desc, keep_going, advance) -> list[TaskOutcome]:
    from distributed import as_completed

    stamp = time.monotonic_ns()
    futures = client.map(
        function, list(items), key=[f"{desc}-{stamp}-{i}" for i in range(len(items))], pure=False
    )
    index = {f.key: i for i, f in enumerate(futures)}
    outcomes: dict[int, TaskOutcome] = {}
    for future in as_completed(futures):
        i = index[future.key]
        if future.status == "error":
            exc = future.exception()
            if not keep_going:
                client.cancel(futures)
                raise exc
            said = str(exc) if isinstance(exc, UvhuntError) else _said(exc)
            outcomes[i] = TaskOutcome(i, error=said, exception=exc)
        else:
            outcomes[i] = TaskOutcome(i, result=future.result())
        future.release()
        advance(1)
    return [outcomes[i] for i in range(len(futures))]


def _said(exc: BaseException) -> str:
    """An exception as ``Type: message``, or ``Type`` alone when it has no message (Dask's
    ``CommClosedError`` has none)."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def save_logs(client, folder: Path) -> list[str]:
    """The scheduler's and every worker's recent log lines, one text file each, in
    ``folder``; returns the file names. When the cluster cannot give them (a connection lost),
    ``unavailable.log`` says why instead."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    try:
        sources = {"scheduler": client.get_scheduler_logs()}
        for i, (address, lines) in enumerate(sorted(client.get_worker_logs().items())):
            sources[f"worker-{i}"] = [*lines, ("INFO", f"worker at {address}")]
    except (OSError, TimeoutError) as exc:
        # a worker lost at the end (killed, starved) must not cost the finished results
        (folder / "unavailable.log").write_text(
            f"the cluster's logs could not be fetched: {_said(exc)}\n"
        )
        return ["unavailable.log"]
    for name, lines in sources.items():  # dask gives the newest line first
        (folder / f"{name}.log").write_text("".join(f"{m}\n" for _, m in reversed(lines)))
        names.append(f"{name}.log")
    return names
