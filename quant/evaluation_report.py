"""Write the leave-one-session-out results: CSV and markdown tables, and ROC curves."""

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from uvhunt.quant.evaluation import FoldResult, mean_auc, methods, quantization_loss  # noqa: E402
from uvhunt.quant.metrics import FALSE_POSITIVE_RATES  # noqa: E402


def auc_rows(folds: list[FoldResult]) -> list[list]:
    """Rows = methods, columns = sessions + mean ROC AUC (best first after the MLPs)."""
    names = methods(folds)
    mlps, others = names[:2], sorted(names[2:], key=lambda m: -mean_auc(folds, m))
    return [[m, *(f.auc[m] for f in folds), mean_auc(folds, m)] for m in mlps + others]


def efficiency_rows(folds: list[FoldResult]) -> list[list]:
    return [
        [
            m,
            *(
                float(np.mean([f.efficiency[m][fpr] for f in folds]))
                for fpr in FALSE_POSITIVE_RATES
            ),
        ]
        for m in methods(folds)
    ]


def magnitude_rows(folds: list[FoldResult], method: str) -> list[list]:
    """Meteors and detected meteors per magnitude bin, summed over held-out sessions."""
    rows = {}
    for fold in folds:
        for r in fold.magnitude[method]:
            total = rows.setdefault(r["magnitude"], [0, 0])
            total[0] += r["meteors"]
            total[1] += r["detected"]
    return [[b, n, d, d / n if n else float("nan")] for b, (n, d) in rows.items()]


def summary(folds: list[FoldResult]) -> dict:
    names = methods(folds)
    baselines = [m for m in names if m not in ("float_mlp", "qat_mlp")]
    best = max(baselines, key=lambda m: mean_auc(folds, m))
    loss = quantization_loss(folds)
    return {
        "sessions": [f.session for f in folds],
        "mean_auc": {m: mean_auc(folds, m) for m in names},
        "quantization_loss": {
            "per_session": dict(zip([f.session for f in folds], loss, strict=True)),
            "mean": float(np.mean(loss)),
        },
        "best_baseline": {"method": best, "mean_auc": mean_auc(folds, best)},
        "qat_minus_best_baseline": mean_auc(folds, "qat_mlp") - mean_auc(folds, best),
        "efficiency": {
            row[0]: {
                f"{fpr:g}": value for fpr, value in zip(FALSE_POSITIVE_RATES, row[1:], strict=True)
            }
            for row in efficiency_rows(folds)
        },
        "baseline_settings": {f.session: f.baseline_settings for f in folds},
    }


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows([[f"{x:.6f}" if isinstance(x, float) else x for x in r] for r in rows])


def _markdown(header: list[str], rows: list[list]) -> str:
    def cell(x):
        return f"{x:.4f}" if isinstance(x, float) else str(x)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(cell(x) for x in r) + " |" for r in rows])


def write_report(folds: list[FoldResult], folder: Path) -> dict:
    """Write auc.csv, efficiency.csv, magnitude.csv, quantization_loss.csv, report.md and
    roc.png into ``folder``; returns the summary."""
    folder = Path(folder)
    sessions = [f.session for f in folds]
    auc_header = ["method", *sessions, "mean"]
    eff_header = ["method", *(f"efficiency@fpr={fpr:g}" for fpr in FALSE_POSITIVE_RATES)]
    mag_header = ["magnitude", "meteors", "detected", "efficiency"]
    loss = quantization_loss(folds)
    loss_rows = [
        [s, f.auc["float_mlp"], f.auc["qat_mlp"], d]
        for s, f, d in zip(sessions, folds, loss, strict=True)
    ]
    loss_rows.append(
        ["mean", mean_auc(folds, "float_mlp"), mean_auc(folds, "qat_mlp"), float(np.mean(loss))]
    )
    _write_csv(folder / "auc.csv", auc_header, auc_rows(folds))
    _write_csv(folder / "efficiency.csv", eff_header, efficiency_rows(folds))
    _write_csv(
        folder / "quantization_loss.csv", ["session", "float_auc", "qat_auc", "loss"], loss_rows
    )
    with open(folder / "magnitude.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["method", *mag_header])
        for method in methods(folds):
            writer.writerows([[method, *r] for r in magnitude_rows(folds, method)])
    info = summary(folds)
    best = info["best_baseline"]["method"]
    text = [
        "# Leave-one-session-out evaluation",
        "",
        "Each column is a held-out session: every method is trained on the other sessions "
        "and scored on it (ROC AUC over its meteor windows and uniformly drawn not-meteor "
        "windows).",
        "",
        _markdown(auc_header, auc_rows(folds)),
        "",
        "## Quantization accuracy loss (float AUC − QAT AUC)",
        "",
        _markdown(["session", "float AUC", "QAT AUC", "loss"], loss_rows),
        "",
        "## Efficiency at fixed false-positive rates per window (mean over sessions)",
        "",
        _markdown(eff_header, efficiency_rows(folds)),
        "",
        f"## Meteors detected versus magnitude (threshold at {FALSE_POSITIVE_RATES[0]:g} "
        "false positives per window; a meteor counts once, when any of its windows fires)",
        "",
    ]
    for method in ("float_mlp", "qat_mlp", best):
        text += [f"### {method}", "", _markdown(mag_header, magnitude_rows(folds, method)), ""]
    (folder / "report.md").write_text("\n".join(text))
    plot_roc(folds, folder / "roc.png", best)
    return info


def plot_roc(folds: list[FoldResult], path: Path, best_baseline: str) -> None:
    n = len(folds)
    cols = min(3, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.6 * rows), squeeze=False)
    for ax, fold in zip(axes.flat, folds, strict=False):
        for method, style in (("float_mlp", "-"), ("qat_mlp", "--"), (best_baseline, ":")):
            fpr, tpr = fold.roc[method]
            ax.plot(np.maximum(fpr, 1e-6), tpr, style, label=f"{method} ({fold.auc[method]:.3f})")
        ax.set_xscale("log")
        ax.set_xlim(1e-5, 1)
        ax.set_title(f"{fold.session}: {fold.meteors} meteor windows", fontsize=9)
        ax.set_xlabel("false positives per window")
        ax.set_ylabel("meteor windows found")
        ax.legend(fontsize=7, loc="lower right")
    for ax in axes.flat[n:]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
