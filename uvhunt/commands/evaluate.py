"""Leave-one-session-out evaluation: for every session, train the float MLP, the QAT MLP
and the study's baselines (KNN, random forest, XGBoost, logistic regression on raw vectors,
five features and both) on the other sessions, and score the held-out one."""

from pathlib import Path

from uvhunt.console import emit, progress, table
from uvhunt.errors import UvhuntError
from uvhunt.model_evaluation import check_test_negatives, evaluate_stage
from uvhunt.run_layout import default_folder

NAME = "evaluate"
HELP = "leave-one-session-out ROC AUC of the MLPs against the baselines"


def add_arguments(p) -> None:
    p.add_argument(
        "--windows",
        type=Path,
        default=default_folder("windows"),
        help="window data set written by `uvhunt windows`",
    )
    p.add_argument(
        "--model",
        type=Path,
        default=default_folder("train"),
        help="model folder whose configs are evaluated",
    )
    p.add_argument(
        "--out", type=Path, default=default_folder("evaluate"), help="report folder (replaced)"
    )
    p.add_argument(
        "--test-negatives",
        type=int,
        default=40_000,
        help="not-meteor windows drawn uniformly from each held-out session",
    )
    p.add_argument("--workers", type=int, default=2, help="folds evaluated at once")


def main(args) -> int:
    check_test_negatives(args.test_negatives)
    if args.workers < 1:
        raise UvhuntError(
            f"--workers must be >= 1 (got {args.workers})", fix="use --workers 1 or 2"
        )
    with progress(None, "evaluate", "session", args.quiet) as bar:
        summary = evaluate_stage(
            args.model,
            args.windows,
            args.out,
            args.test_negatives,
            args.workers,
            lambda fold: bar.update(1),
        )
    emit(summary, render(summary), args.json)
    return 0


def render(summary: dict) -> str:
    rows = sorted(summary["mean_auc"].items(), key=lambda kv: -kv[1])
    loss = summary["quantization_loss"]
    best = summary["best_baseline"]
    return "\n".join(
        [
            table([[m, f"{a:.4f}"] for m, a in rows], ["method", "mean ROC AUC"]),
            "",
            f"quantization loss (float − QAT AUC): mean {loss['mean']:+.4f} over "
            f"{len(loss['per_session'])} held-out sessions",
            f"QAT MLP − best baseline ({best['method']}): "
            f"{summary['qat_minus_best_baseline']:+.4f}",
            f"report written to {summary['out']}/report.md ({summary['seconds']} s)",
        ]
    )
