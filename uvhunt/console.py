"""What commands show a person: progress bars on stderr, a summary table, or JSON."""

import contextlib
import json
import os
import sys
import warnings

from tqdm import tqdm

from uvhunt._core.progress import ProgressFactory


def progress_bars(quiet: bool = False) -> ProgressFactory:
    """The command line's progress factory (see ``uvhunt._core.progress``): tqdm bars on
    stderr, none with ``quiet``."""

    def bar(total: int | None, desc: str, unit: str) -> tqdm:
        return tqdm(
            total=total,
            desc=desc,
            unit=unit,
            unit_scale=True,
            disable=quiet,
            file=sys.stderr,
            dynamic_ncols=True,
            leave=False,
        )

    return bar


@contextlib.contextmanager
def warnings_off():
    """Python warnings off, here and in the processes started meanwhile (the evaluation's
    workers, Dask's, the simulator's Python), unless the environment's ``PYTHONWARNINGS``
    says otherwise: foreign libraries' warnings are not a command's output."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if "PYTHONWARNINGS" in os.environ:
            yield
            return
        os.environ["PYTHONWARNINGS"] = "ignore"
        try:
            yield
        finally:
            del os.environ["PYTHONWARNINGS"]


def table(rows: list[list], headers: list[str]) -> str:
    """A plain-text table with right-aligned numbers."""
    cells = [[str(h) for h in headers]] + [[_fmt(x) for x in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row):
        return "  ".join(
            c.rjust(w) if i else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )

    out = [line(cells[0]), "  ".join("-" * w for w in widths)]
    return "\n".join(out + [line(r) for r in cells[1:]])


def _fmt(x) -> str:
    if isinstance(x, float):
        return f"{x:,.2f}"
    if isinstance(x, int):
        return f"{x:,}"
    return str(x)


def accuracy_sentence(a: dict, hardware: str, key: str) -> str:
    """The float-versus-hardware line of a ``hardware_accuracy`` dict (``key``: its AUC key)."""
    if a["float_auc"] is None:
        return f"ROC AUC: not defined on {a['windows']:,} windows of one class"
    return (
        f"ROC AUC on {a['windows']:,} windows: float {a['float_auc']:.4f}, {hardware} "
        f"{a[key]:.4f} (quantization loss {a['quantization_loss']:+.4f})"
    )


def emit(summary: dict, text: str, as_json: bool) -> None:
    """Print the command's closing summary: ``text`` for people, ``summary`` as JSON."""
    if as_json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        print(text)


def say(message: str, quiet: bool = False) -> None:
    """A one-line progress note on stderr (stdout stays for the summary or its JSON)."""
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def quality_sentence(q: dict) -> str:
    """A trigger's event-level figures (``detection.event_quality.quality``) in one line:
    false events per hour, meteors caught, and per magnitude bin ``+4…+5 3/4``."""
    bins = ", ".join(f"{r['magnitude']} {r['caught']}/{r['meteors']}" for r in q["by_magnitude"])
    out_of_view = q.get("meteors_out_of_view", 0)  # absent in exports made before it was counted
    unseen = f" ({out_of_view} more out of view, not counted)" if out_of_view else ""
    return (
        f"{q['false_events_per_hour']:.1f} false events per hour ({q['false_events']} in "
        f"{q['hours']:.2f} h), {q['meteors_caught']} of {q['meteors']} meteors caught{unseen}; "
        f"by magnitude: {bins}"
    )
