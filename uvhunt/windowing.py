"""Turn sessions or real files into a window data set (the ``windows`` stage)."""

from collections.abc import Callable
from pathlib import Path

from euso.readers import Movie, open_movie
from euso.store import is_session_folder
from euso.window_store import write_window_dataset
from euso.windows import WindowConfig
from uvhunt.atomic import check_output
from uvhunt.errors import UvhuntError


def expand_sources(paths: list[Path]) -> list[Path]:
    """Session folders, folders of session folders (as ``simulate`` writes) and files."""
    out = []
    for path in map(Path, paths):
        if path.is_dir() and not is_session_folder(path):
            inner = sorted(p for p in path.iterdir() if is_session_folder(p))
            if not inner:
                raise UvhuntError(
                    "folder holds no session folders",
                    path=path,
                    fix="pass session folders, a folder written by "
                    "`uvhunt simulate`, or .npy/.npz/.root files",
                )
            out += inner
        else:
            out.append(path)
    return out


def window_config(**options) -> WindowConfig:
    try:
        return WindowConfig(**options).validate()
    except ValueError as exc:
        raise UvhuntError(
            f"invalid window setting: {exc}",
            fix="see `uvhunt windows --help` for the allowed values",
        ) from exc


def make_windows(
    paths: list[Path],
    out: Path,
    config: WindowConfig,
    units: str | None = None,
    progress_factory: Callable[[int], Callable] | None = None,
) -> dict:
    """Open every source, then write the data set; ``progress_factory(total)`` gives a
    callback advanced by nominal window starts."""
    sources = expand_sources(paths)
    check_output(out, [*paths, *sources])
    movies: list[Movie] = [open_movie(p, units) for p in sources]
    names = [m.name for m in movies]
    if len(set(names)) != len(names):
        for m in movies:
            m.name = f"{m.path.parent.name}/{m.name}"
    total = sum(config.nominal_count(m.frames) for m in movies)
    if total == 0:
        raise UvhuntError(
            f"every source is shorter than one window ({config.length} frames)",
            path=paths[0],
            fix="use longer movies or a shorter --length",
        )
    if progress_factory is None:
        return write_window_dataset(movies, out, config)
    with progress_factory(total) as bar:
        return write_window_dataset(movies, out, config, bar.update)
