"""Leave-one-session-out evaluation: for every session, train the float MLP, the QAT MLP
and the study's baselines (KNN, random forest, XGBoost, logistic regression on raw vectors,
five features and both) on the other sessions, and score the held-out one."""

import tempfile
import time
from pathlib import Path

from uvhunt._core.atomic import atomic_dir, check_output, write_json
from uvhunt._core.background import caller_waiting
from uvhunt._core.errors import UvhuntError
from uvhunt.console import table
from uvhunt.detection import event_evaluation
from uvhunt.detection.event_evaluation_report import (
    OPERATING_HEADER,
    operating_rows,
    write_event_report,
)
from uvhunt.quant.checkpoint import load_models
from uvhunt.quant.config import ModelConfig, TrainConfig
from uvhunt.quant.evaluation import DEFAULT_TEST_NEGATIVES, MIN_TEST_NEGATIVES, evaluate
from uvhunt.quant.evaluation_report import write_report
from uvhunt.stages.model_options import (
    DEFAULT_MODEL,
    DEFAULT_TRAIN,
    add_model_arguments,
    add_train_arguments,
    model_config,
    train_config,
)
from uvhunt.stages.stage import Input, Stage


def add_options(p) -> None:
    p.add_argument(
        "--model",
        type=Path,
        default=None,
        help="a trained model folder whose configs (config.json) are evaluated instead of the "
        "model and training options below, which then keep their defaults",
    )
    add_test_negatives(p)
    p.add_argument("--workers", type=int, default=2, help="folds evaluated at once")
    add_model_arguments(p)
    add_train_arguments(p)


def add_test_negatives(p) -> None:
    """``--test-negatives``, for this stage and ``uvhunt run``."""
    p.add_argument(
        "--test-negatives",
        type=int,
        default=DEFAULT_TEST_NEGATIVES,
        help="not-meteor windows drawn uniformly from each held-out session",
    )


def check_test_negatives(test_negatives: int) -> None:
    if test_negatives < MIN_TEST_NEGATIVES:
        raise UvhuntError(
            f"--test-negatives must be >= {MIN_TEST_NEGATIVES}",
            fix="at 1e-4 false positives per window, 1,000 negatives is the least",
        )


def configs(args) -> tuple[ModelConfig, TrainConfig]:
    """The configs evaluated: the model and training options', or those of ``--model``'s
    folder (the options then at their defaults)."""
    options = model_config(args), train_config(args)
    if args.model is None:
        return options
    if [c.to_dict() for c in options] != [DEFAULT_MODEL.to_dict(), DEFAULT_TRAIN.to_dict()]:
        raise UvhuntError(
            "--model and model or training options both given: the configs come from one",
            path=args.model,
            fix="drop --model to evaluate the options, or drop the options to evaluate the "
            "model folder's configs",
        )
    model, training, *_ = load_models(args.model)
    return model, training


def run(args, progress) -> dict:
    """Evaluate the configs (options or a model folder's); write the report folder."""
    check_test_negatives(args.test_negatives)
    if args.workers < 1:
        raise UvhuntError(
            f"--workers must be >= 1 (got {args.workers})", fix="use --workers 1 or 2"
        )
    check_output(args.out, [args.windows, *([args.model] if args.model else [])])
    model_config, train_config = configs(args)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="uvhunt-events-") as cache:
        hook = event_evaluation.prepare(
            args.windows, model_config, Path(cache), args.workers, progress
        )
        folds = evaluate(
            args.windows,
            model_config,
            train_config,
            args.test_negatives,
            args.workers,
            progress,
            fold_hook=hook,
            spare_worker=caller_waiting,
        )
    with atomic_dir(args.out) as tmp:
        summary = write_report(folds, tmp)
        event_level = write_event_report([f.extra for f in folds], tmp, hook.per_hour)
        summary.update(
            {
                "event_level": event_level,
                "windows": str(args.windows),
                "model": None if args.model is None else str(args.model),
                "test_negatives": args.test_negatives,
                "seconds": round(time.perf_counter() - start, 1),
                "config": {"model": model_config.to_dict(), "train": train_config.to_dict()},
            }
        )
        write_json(tmp / "summary.json", summary)
    return {"out": str(args.out), **summary}


def render(summary: dict) -> str:
    rows = sorted(summary["mean_auc"].items(), key=lambda kv: -kv[1])
    loss = summary["quantization_loss"]
    best = summary["best_baseline"]
    events = summary["event_level"]
    return "\n".join(
        [
            table([[m, f"{a:.4f}"] for m, a in rows], ["method", "mean ROC AUC"]),
            "",
            f"quantization loss (float − QAT AUC): mean {loss['mean']:+.4f} over "
            f"{len(loss['per_session'])} held-out sessions",
            f"QAT MLP − best baseline ({best['method']}): "
            f"{summary['qat_minus_best_baseline']:+.4f}",
            "",
            f"event level: threshold on each fold's training sessions for at most "
            f"{events['false_events_per_hour_target']:g} false events per hour, applied to "
            "the held-out session (summed over folds)",
            table(operating_rows(events), OPERATING_HEADER),
            f"report written to {summary['out']}/report.md ({summary['seconds']} s)",
        ]
    )


STAGE = Stage(
    name="evaluate",
    folder="evaluation",
    help="leave-one-session-out ROC AUC of the MLPs against the baselines",
    description=__doc__,
    add_options=add_options,
    run=run,
    render=render,
    inputs=(Input("windows", "windows", "window data set written by `uvhunt windows`"),),
    out_help="report folder (replaced)",
    background=True,
)
