"""Train the float MLP and its brevitas QAT twin on a window data set (Adam, exponential
learning-rate decay, binary cross-entropy, batch 128, early stopping on validation ROC AUC)."""

from pathlib import Path

from uvhunt.console import emit, progress
from uvhunt.model_options import (
    add_model_arguments,
    add_train_arguments,
    model_config,
    train_config,
)
from uvhunt.model_training import train_stage
from uvhunt.run_layout import default_folder

NAME = "train"
HELP = "train the float MLP and its QAT twin on a window data set"


def add_arguments(p) -> None:
    p.add_argument(
        "--windows",
        type=Path,
        default=default_folder("windows"),
        help="window data set written by `uvhunt windows`",
    )
    p.add_argument(
        "--out", type=Path, default=default_folder("train"), help="model folder (replaced)"
    )
    add_model_arguments(p)
    add_train_arguments(p)


def main(args) -> int:
    model, training = model_config(args), train_config(args)
    bars = {}

    def advance(name: str, epoch: int, epochs: int) -> None:
        if name not in bars:
            bars[name] = progress(epochs, f"train {name}", "epoch", args.quiet)
        bars[name].update(1)

    summary = train_stage(args.windows, args.out, model, training, advance)
    for bar in bars.values():
        bar.close()
    emit(summary, render(summary), args.json)
    return 0


def render(summary: dict) -> str:
    h = summary["history"]
    return "\n".join(
        [
            f"trained on {summary['meteor_windows']:,} meteor and "
            f"{summary['not_meteor_windows']:,} not-meteor windows of "
            f"{len(summary['sessions'])} sessions in {summary['seconds']} s",
            f"float MLP {summary['model']['hidden']}: best validation AUC "
            f"{h['float']['best_validation_auc']:.4f} (epoch {h['float']['best_epoch']})",
            f"QAT MLP: best validation AUC {h['qat']['best_validation_auc']:.4f} "
            f"(epoch {h['qat']['best_epoch']} of fine-tuning)",
            f"model written to {summary['out']}",
        ]
    )
