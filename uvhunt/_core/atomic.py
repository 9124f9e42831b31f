"""Write outputs so that a failure leaves nothing half-written behind."""

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from uvhunt._core.errors import UvhuntError


def check_output(target: Path, inputs: Iterable[Path] = ()) -> Path:
    """Refuse an output folder that would destroy an input, a file or the working folder.

    The output replaces ``target`` whole, so it must not be, hold or sit inside an input, be
    an existing file, or hold the current folder.
    """
    out = Path(target).resolve()
    if out.exists() and not out.is_dir():
        raise UvhuntError(
            "output exists and is not a folder",
            path=target,
            fix="choose a new output folder name",
            setting="out",
        )
    for parent in out.parents:
        if parent.exists() and not parent.is_dir():
            raise UvhuntError(
                f"{parent} is a file, so the output folder cannot be made",
                path=target,
                fix="choose an output folder under an existing folder",
                setting="out",
            )
    if Path.cwd().resolve().is_relative_to(out):
        raise UvhuntError(
            "output would replace the current folder (or one holding it)",
            path=target,
            fix="choose a new sub-folder for the output",
            setting="out",
        )
    for source in inputs:
        src = Path(source).resolve()
        if src.is_relative_to(out) or out.is_relative_to(src):
            raise UvhuntError(
                f"output would overwrite the input {source}",
                path=target,
                fix="write to a folder apart from the inputs",
            )
    return Path(target)


@contextlib.contextmanager
def atomic_dir(target: Path, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; on success it replaces ``target``.

    On any exception the temporary folder is removed and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists")
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes 0700; the result is an ordinary folder
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        target.rename(old)
    tmp.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed to ``path``.

    On any exception the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_json(path: Path, data: object) -> None:
    """Write ``data`` as indented JSON, atomically."""
    with atomic_file(path) as partial:
        partial.write_text(json.dumps(data, indent=2, sort_keys=False, default=_jsonable) + "\n")


def _jsonable(value: object) -> object:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
