"""Functions the background-process tests run in a child (importable by name there)."""

import os
import time

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
    """Work in a joblib pool, whose workers stay alive for reuse (300 s) afterwards."""
    from joblib import Parallel, delayed

    jobs = (delayed(_torch_work)(i) for i in range(10))
    return sum(Parallel(n_jobs=2, return_as="generator")(jobs))  # as the evaluation uses it


def write_slowly(target: str, progress) -> None:
    """Write a folder atomically, slowly: stopped meanwhile, it must leave nothing behind."""
    from pathlib import Path

    from uvhunt._core.atomic import atomic_dir

    with atomic_dir(Path(target)) as tmp:
        (tmp / "half.txt").write_text("half")
        time.sleep(60)
