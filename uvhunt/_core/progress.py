"""The one progress convention of uvhunt.

A long operation takes ``progress``, a factory called as ``progress(total, desc, unit)``
(``total`` in ``unit``s, or None when unknown) that returns a bar: a context manager with
``update(n)``. The command line passes one that draws on stderr (``uvhunt.console``); a
library caller passes nothing and gets ``no_progress``. Inner loops that only count take the
bar's ``update`` as a plain callback ``advance(n)``.
"""

from collections.abc import Callable
from typing import Protocol


class Bar(Protocol):
    def update(self, n: float = 1) -> object: ...

    def __enter__(self) -> "Bar": ...

    def __exit__(self, *exc: object) -> object: ...


ProgressFactory = Callable[[int | None, str, str], Bar]


class _Silent:
    def update(self, n: float = 1) -> None:
        pass

    def __enter__(self) -> "_Silent":
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def no_progress(total: int | None, desc: str, unit: str) -> Bar:
    """A bar that shows nothing."""
    return _Silent()
