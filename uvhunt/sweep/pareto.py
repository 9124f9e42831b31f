"""The accuracy–resource Pareto front of a sweep's points, and its plot."""

from pathlib import Path

import numpy as np


def pareto_front(cost: list[float], accuracy: list[float]) -> list[int]:
    """Indices of the points no other point beats (cost no higher and accuracy no lower, one
    of them strictly), by increasing cost; among equal points the first is kept."""
    order = sorted(range(len(cost)), key=lambda i: (cost[i], -accuracy[i], i))
    front, best = [], -np.inf
    for i in order:
        if accuracy[i] > best:
            front.append(i)
            best = accuracy[i]
    return front


def near_front(cost: list[float], accuracy: list[float], margin: float) -> list[int]:
    """Indices on the front, or within ``margin`` of accuracy below the front at their cost
    (those also get synthesized: the estimate that ranks them is not Yosys)."""
    front = pareto_front(cost, accuracy)
    chosen = []
    for i in range(len(cost)):
        reach = max((accuracy[j] for j in front if cost[j] <= cost[i]), default=-np.inf)
        if i in front or accuracy[i] >= reach - margin:
            chosen.append(i)
    return chosen


def plot_front(rows: list[dict], path: Path, reference: dict[str, dict] | None = None) -> None:
    """QAT AUC against LUTs: every point at da4ml's estimate (grey), and per design style
    the front in Yosys LUTs of the synthesized points (the unrolled design, the trigger
    core); ``reference`` points (label → row) are marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in rows if r.get("status") == "ok"]
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    ax.scatter(
        [r["da4ml_luts"] for r in ok],
        [r["qat_auc"] for r in ok],
        s=12,
        color="0.7",
        label="every point (da4ml estimate)",
    )
    for column, label, color in (
        ("unrolled_luts", "unrolled, 1 window/clock (Yosys)", "C0"),
        ("core_luts", "trigger core, 2,304 px (Yosys)", "C3"),
    ):
        have = [r for r in ok if r.get(column) is not None]
        if not have:
            continue
        cost = [float(r[column]) for r in have]
        accuracy = [float(r["qat_auc"]) for r in have]
        front = pareto_front(cost, accuracy)
        ax.plot(
            [cost[i] for i in front],
            [accuracy[i] for i in front],
            "o-",
            color=color,
            label=label,
            drawstyle="steps-post",
        )
    for name, row in (reference or {}).items():
        ax.scatter([row["da4ml_luts"]], [row["qat_auc"]], marker="*", s=120, color="k")
        ax.annotate(
            name,
            (row["da4ml_luts"], row["qat_auc"]),
            fontsize=8,
            xytext=(4, -10),
            textcoords="offset points",
        )
    ax.set_xscale("log")
    ax.set_xlabel("LUTs")
    ax.set_ylabel("QAT MLP window ROC AUC (leave-k-sessions-out)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
