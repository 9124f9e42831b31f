"""The event level of the leave-one-session-out evaluation written out: the operating point
of each method over the held-out sessions, the event-level ROC (``event_roc.csv``,
``event_roc.png``) and a section of ``report.md``.

Folds are combined by sums (``event_quality.combined``): hours, false events, and meteors and
meteors caught per magnitude bin over the held-out sessions. At each ROC rate every fold has
its own threshold, set on its held-out scan.
"""

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from uvhunt.detection.event_evaluation import (  # noqa: E402
    BASELINE,
    CANDIDATE_FRACTION,
    EVENT_RATES,
    METHODS,
    THRESHOLD_UNITS,
)
from uvhunt.detection.event_quality import combined  # noqa: E402

ROC_HEADER = ["method", "rate", "magnitude", "meteors", "caught", "efficiency"]
BRIGHT, FAINT = "brighter than +5", "+5…+6"
"""The two magnitude groups of the plot and the tables."""


def _upper(magnitude: str) -> float:
    return float(magnitude.split("…")[1])


def group_counts(rows: list[dict]) -> dict[str, tuple[int, int]]:
    """(meteors caught, meteors) in the groups ``BRIGHT`` and ``FAINT`` of the magnitude rows
    ``rows`` (``event_quality.quality``'s ``by_magnitude``)."""
    out = {}
    for name, inside in ((BRIGHT, lambda m: _upper(m) <= 5), (FAINT, lambda m: m == FAINT)):
        chosen = [r for r in rows if inside(r["magnitude"])]
        out[name] = (sum(r["caught"] for r in chosen), sum(r["meteors"] for r in chosen))
    return out


def group_efficiency(rows: list[dict]) -> dict[str, float | None]:
    """Caught over meteors in the groups ``BRIGHT`` and ``FAINT`` (None when empty)."""
    return {
        name: caught / meteors if meteors else None
        for name, (caught, meteors) in group_counts(rows).items()
    }


def summary(extras: list[dict], rate: float) -> dict:
    """``summary.json``'s ``event_level``: per method, the operating point over the held-out
    sessions (``false_events_per_hour``, ``efficiency_by_magnitude``, ``threshold`` per
    session, ...), and the ROC per rate."""
    methods = {}
    for method in METHODS:
        held = combined([e["methods"][method]["held_out"] for e in extras])
        methods[method] = {
            "threshold": {e["session"]: e["methods"][method]["threshold"] for e in extras},
            "threshold_units": THRESHOLD_UNITS[method],
            **held,
            **group_efficiency(held["by_magnitude"]),
            "training_false_events_per_hour": {
                e["session"]: e["methods"][method]["training"]["false_events_per_hour"]
                for e in extras
            },
        }
    methods["qat_mlp"]["logit"] = {e["session"]: e["methods"]["qat_mlp"]["logit"] for e in extras}
    checks = [e["candidate_check"] for e in extras]
    seconds = [e["seconds"] for e in extras]
    return {
        "false_events_per_hour_target": rate,
        "first_frame": extras[0]["first_frame"],
        "baseline": BASELINE,
        "methods": methods,
        "roc": roc(extras),
        "conventional_trigger": {e["session"]: e["conventional_trigger"] for e in extras},
        "golden_mismatches": sum(e["golden_mismatches"] for e in extras),
        "golden_compared": sum(e["golden_compared"] for e in extras),
        "candidate_check": {
            "candidate_fraction": CANDIDATE_FRACTION,
            "above_threshold": sum(c["above_threshold"] for c in checks),
            "outside_candidates": sum(c["outside_candidates"] for c in checks),
        },
        "seconds_per_fold": {e["session"]: s for e, s in zip(extras, seconds, strict=True)},
        "mean_seconds_per_fold": sum(seconds) / len(seconds),
    }


def roc(extras: list[dict]) -> dict[str, list[dict]]:
    """Per method, per rate of ``EVENT_RATES``: the folds' held-out figures combined."""
    return {
        method: [
            {
                "rate": rate,
                **combined([e["methods"][method]["roc"][i] for e in extras]),
            }
            for i, rate in enumerate(EVENT_RATES)
        ]
        for method in METHODS
    }


def roc_rows(event_level: dict) -> list[list]:
    rows = []
    for method, curve in event_level["roc"].items():
        for point in curve:
            for r in point["by_magnitude"]:
                rows.append(
                    [method, point["rate"], r["magnitude"], r["meteors"], r["caught"]]
                    + [r["caught"] / r["meteors"]]
                )
    return rows


def operating_rows(event_level: dict) -> list[list]:
    """method, false events per hour, caught/meteors, the two groups' efficiencies."""
    rows = []
    for method, m in event_level["methods"].items():
        rows.append(
            [
                method,
                f"{m['false_events_per_hour']:.1f}",
                f"{m['meteors_caught']}/{m['meteors']}",
                *(_fraction(m[g]) for g in (BRIGHT, FAINT)),
            ]
        )
    return rows


OPERATING_HEADER = ["method", "false events/h", "meteors caught", BRIGHT, FAINT]


def _fraction(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _markdown(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(x) for x in r) + " |" for r in rows])


def write_event_report(extras: list[dict], folder: Path, rate: float) -> dict:
    """Write event_roc.csv and event_roc.png into ``folder`` and append the event-level
    section to its report.md; returns the ``event_level`` summary."""
    folder = Path(folder)
    info = summary(extras, rate)
    with open(folder / "event_roc.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(ROC_HEADER)
        writer.writerows(
            [[f"{x:.6f}" if isinstance(x, float) else x for x in r] for r in roc_rows(info)]
        )
    plot_event_roc(info, folder / "event_roc.png")
    curve_rows = [
        [method, f"{p['rate']:g}", f"{p['false_events_per_hour']:.1f}"]
        + [_fraction(group_efficiency(p["by_magnitude"])[g]) for g in (BRIGHT, FAINT)]
        for method, curve in info["roc"].items()
        for p in curve
    ]
    check = info["candidate_check"]
    text = [
        "",
        "## Event level: each held-out session scanned whole",
        "",
        "Every pixel's sliding window at every frame of the held-out session, scored by the "
        "fold's QAT MLP (its integer golden model), the baseline "
        f"{BASELINE}, the peak-gated trigger (nothing learned) and the conventional trigger "
        "(tuned on the training sessions); "
        "detections grouped into events and matched to the truth as `uvhunt detect` does, "
        f"from frame {info['first_frame']} on.",
        "",
        f"### Operating point: threshold set on each fold's training sessions for at most "
        f"{rate:g} false events per hour, applied to the held-out session",
        "",
        _markdown(OPERATING_HEADER, operating_rows(info)),
        "",
        "### Event-level ROC: thresholds set on each held-out scan, summed over folds",
        "",
        _markdown(["method", "false events/h (target)", "measured", BRIGHT, FAINT], curve_rows),
        "",
        f"The fold's golden model equals brevitas on {info['golden_compared']:,} test "
        f"windows with {info['golden_mismatches']} mismatches. The baseline's training "
        f"threshold saw the QAT MLP's top {CANDIDATE_FRACTION:.0%} windows of each training "
        f"session; on the held-out scans, {check['outside_candidates']} of its "
        f"{check['above_threshold']} windows above that threshold lay outside that rule.",
        "",
    ]
    with open(folder / "report.md", "a") as f:
        f.write("\n".join(text))
    return info


def plot_event_roc(event_level: dict, path: Path) -> None:
    """Meteors caught against false events per hour (log), one curve per method; a panel for
    meteors brighter than +5 and one for +5…+6."""
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.8), squeeze=False)
    for ax, group in zip(axes.flat, (BRIGHT, FAINT), strict=True):
        for method, curve in event_level["roc"].items():
            values = [group_efficiency(p["by_magnitude"])[group] for p in curve]
            points = [(p["rate"], v) for p, v in zip(curve, values, strict=True) if v is not None]
            if points:
                ax.plot(*zip(*points, strict=True), "o-", label=method)
        ax.set_xscale("log")
        ax.set_ylim(0, 1.05)
        ax.set_title(f"meteors {group}", fontsize=9)
        ax.set_xlabel("false events per hour (threshold set on the held-out scan)")
        ax.set_ylabel("fraction of meteors caught")
        ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
