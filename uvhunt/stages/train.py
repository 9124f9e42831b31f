"""Train the float MLP and its brevitas QAT twin on a window data set (Adam, exponential
learning-rate decay, binary cross-entropy, batch 128, early stopping on validation ROC AUC)."""

import time

import numpy as np
import torch

from uvhunt._core.atomic import atomic_dir, check_output
from uvhunt.euso.window_store import open_window_dataset
from uvhunt.quant.checkpoint import dataset_hashes, save_models
from uvhunt.quant.data import SessionSampler
from uvhunt.quant.hard_negatives import train_mined
from uvhunt.stages.model_options import (
    add_model_arguments,
    add_train_arguments,
    model_config,
    train_config,
)
from uvhunt.stages.stage import Input, Stage


def add_options(p) -> None:
    add_model_arguments(p)
    add_train_arguments(p)


def run(args, progress) -> dict:
    """Train on all labelled sessions (validation split inside) and write the model folder."""
    model, training = model_config(args), train_config(args)
    check_output(args.out, [args.windows])
    start = time.perf_counter()
    # one thread: the batches are small (128 windows), a second one buys no time for twice
    # the CPU (default windows, idle machine: 42.8–49.1 s with one, 45.9–47.5 s and 85 CPU-s
    # with two; the same weights, bit for bit)
    torch.set_num_threads(1)
    sampler = SessionSampler(open_window_dataset(args.windows))
    sessions = sampler.labelled_sessions
    result, data = train_mined(
        sampler, sessions, model, training, np.random.default_rng(training.seed), progress
    )
    manifest = {
        "windows": str(args.windows),
        "dataset_hashes": dataset_hashes(args.windows),
        "units": sampler.units,
        "sessions": [sampler.names[s] for s in sessions],
        "meteor_windows": int((data.label == 1).sum()),
        "not_meteor_windows": int((data.label == 0).sum()),
        "mined_negatives": training.mined_negatives,
        "distillation": distillation_summary(training, result),
        "history": result.history,
        "seconds": round(time.perf_counter() - start, 1),
    }
    with atomic_dir(args.out) as tmp:
        save_models(
            tmp, model, training, result.float_model, result.quant_model, manifest, data.index
        )
    return {"out": str(args.out), "model": model.to_dict(), **manifest}


def distillation_summary(training, result) -> dict:
    """The distillation's weight and, when it had one, its teacher: name, chosen setting and
    AUC on the validation sessions of its search."""
    teacher = result.teacher
    if teacher is None:
        return {"weight": training.distillation, "teacher": None}
    _, _, setting, validation_auc = teacher.fitted
    return {
        "weight": training.distillation,
        "teacher": {"name": teacher.key, "setting": setting, "validation_auc": validation_auc},
    }


def render(summary: dict) -> str:
    h = summary["history"]
    d = summary["distillation"]
    teacher = d["teacher"]
    taught = (
        f"targets: {1 - d['weight']:g} × the label + {d['weight']:g} × the meteor probability "
        f"of {teacher['name']} ("
        + ", ".join(f"{k} {v}" for k, v in teacher["setting"].items())
        + f"; AUC {teacher['validation_auc']:.4f} on its search's validation sessions)"
        if teacher
        else "targets: the labels"
    )
    return "\n".join(
        [
            f"trained on {summary['meteor_windows']:,} meteor and "
            f"{summary['not_meteor_windows']:,} not-meteor windows of "
            f"{len(summary['sessions'])} sessions in {summary['seconds']} s",
            taught,
            f"float MLP {summary['model']['hidden']}: best validation AUC "
            f"{h['float']['best_validation_auc']:.4f} (epoch {h['float']['best_epoch']})",
            f"QAT MLP: best validation AUC {h['qat']['best_validation_auc']:.4f} "
            f"(epoch {h['qat']['best_epoch']} of fine-tuning)",
            f"model written to {summary['out']}",
        ]
    )


STAGE = Stage(
    name="train",
    folder="model",
    help="train the float MLP and its QAT twin on a window data set",
    description=__doc__,
    add_options=add_options,
    run=run,
    render=render,
    inputs=(Input("windows", "windows", "window data set written by `uvhunt windows`"),),
    out_help="model folder (replaced)",
)
