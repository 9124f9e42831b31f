"""A function run in its own process while the caller goes on, its progress bars forwarded
to the caller: ``uvhunt run`` evaluates in the background while the firmware stages run.

The function is called as ``function(*args, progress)`` in a spawned process (the caller's
environment, so its warning settings too). Its bars send their events over a queue; the
caller shows them when it waits (``Background.result``): bars opened before are drawn at
their count so far, then follow live. From then on ``caller_waiting()`` is true in the child:
the caller has nothing else to run, so the core it used is free for the child's workers.
"""

import contextlib
import multiprocessing
import os
import queue
import signal
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import wait

from uvhunt._core.errors import UvhuntError
from uvhunt._core.progress import ProgressFactory

_POLL_SECONDS = 0.2
"""How often the waiting caller looks at the child, seconds."""
_SETTLE_SECONDS = 2.0
"""How long a child being stopped may take to end by itself."""
_GRACE_SECONDS = 10.0
"""How long a process that has sent its result may take to end before it is killed."""


class Background:
    """``function(*args, progress)`` started now in a child process."""

    def __init__(self, function: Callable, *args):
        context = multiprocessing.get_context("spawn")
        self._events = context.Queue()
        self._waiting = context.Event()
        # not a daemon: the function may start worker processes of its own
        self._process = context.Process(
            target=_child, args=(self._events, self._waiting, function, args), daemon=False
        )
        self._process.start()

    def result(self, progress: ProgressFactory):
        """Wait for the function, showing its bars with ``progress``; its return value, or
        its UvhuntError raised here (any other exception as a RuntimeError with its
        traceback)."""
        bars: dict[int, object] = {}
        self._waiting.set()
        try:
            while True:
                try:
                    event = self._events.get(timeout=_POLL_SECONDS)
                except queue.Empty:
                    if self._process.is_alive():
                        continue
                    event = self._last_event()
                kind, *rest = event
                if kind == "open":
                    key, total, desc, unit = rest
                    bars[key] = progress(total, desc, unit).__enter__()
                elif kind == "update" and rest[0] in bars:
                    bars[rest[0]].update(rest[1])
                elif kind == "close" and rest[0] in bars:
                    bars.pop(rest[0]).__exit__(None, None, None)
                elif kind == "return":
                    return rest[0]
                elif kind == "raise":
                    raise rest[0]
        finally:
            for bar in bars.values():
                bar.__exit__(None, None, None)
            self.stop(settle=_GRACE_SECONDS)

    @property
    def exit_code(self) -> int | None:
        """The child's exit code once it has ended (0: it ended by itself), None before."""
        return self._process.exitcode

    def _last_event(self) -> tuple:
        """What a child that has ended sent last (everything it sent is in the pipe)."""
        try:
            return self._events.get(timeout=1.0)
        except queue.Empty:
            raise RuntimeError(
                "the background process ended without a result "
                f"(exit code {self._process.exitcode})"
            ) from None

    def stop(self, settle: float = _SETTLE_SECONDS) -> None:
        """End the child (its result is lost if it has not sent it): ``settle`` seconds to end
        by itself (after an interrupt, which it receives too; after its result), then SIGTERM,
        which it turns into an exception that removes its half-written output, then SIGKILL."""
        self._process.join(settle)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(_GRACE_SECONDS)
        if self._process.is_alive():
            self._process.kill()
        self._process.join()


class _ForwardedBar:
    """A bar in the child: its events go to the caller."""

    _count = 0

    def __init__(self, events, total, desc, unit):
        _ForwardedBar._count += 1
        self._key, self._events = _ForwardedBar._count, events
        self._events.put(("open", self._key, total, desc, unit))

    def update(self, n: float = 1) -> None:
        self._events.put(("update", self._key, n))

    def __enter__(self) -> "_ForwardedBar":
        return self

    def __exit__(self, *exc) -> None:
        self._events.put(("close", self._key))


_caller_waiting = None
"""In a child: the Event its caller sets when it starts waiting for the result."""


def caller_waiting() -> bool:
    """True in a ``Background`` child once its caller waits for its result (the caller then
    runs nothing else); False before, and in any other process."""
    return _caller_waiting is not None and _caller_waiting.is_set()


class _Stopped(BaseException):
    """The caller stopped the child (SIGTERM)."""


def _child(events, waiting, function: Callable, args: tuple) -> None:
    global _caller_waiting
    _caller_waiting = waiting

    def progress(total, desc, unit):
        return _ForwardedBar(events, total, desc, unit)

    def stopped(signum, frame):  # as an exception, so half-written outputs are removed
        raise _Stopped

    signal.signal(signal.SIGTERM, stopped)

    try:
        outcome = ("return", function(*args, progress))
    except _Stopped:
        raise SystemExit(128 + signal.SIGTERM) from None  # stopped: nothing to send
    except UvhuntError as exc:
        outcome = ("raise", exc)
    except BaseException as exc:  # a bug: its traceback goes back as text
        text = "".join(traceback.format_exception(exc))
        outcome = ("raise", RuntimeError(f"the background process failed:\n{text}"))
    events.put(outcome)
    events.close()
    events.join_thread()  # everything sent before the process ends
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the result is sent: a stop just ends it
    _end_children()


def _end_children() -> None:
    """End this process's children: worker pools a function left idle (joblib keeps its
    workers for reuse) would hold it open until they time out, and the work is done.

    SIGTERM, then SIGKILL by pid, only to those that have not exited (their sentinel is still
    open): loky's processes have no ``kill()``, and one its executor has already reaped still
    looks alive to ``is_alive()`` (its ``waitpid`` fails), its pid free for reuse."""
    children = [c for c in multiprocessing.active_children() if not wait([c.sentinel], 0)]
    for child in children:
        with contextlib.suppress(OSError):
            child.terminate()
    deadline = time.monotonic() + _GRACE_SECONDS
    for child in children:
        if not wait([child.sentinel], max(0.0, deadline - time.monotonic())):
            with contextlib.suppress(OSError):
                os.kill(child.pid, signal.SIGKILL)
