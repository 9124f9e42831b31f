"""Train the float and QAT MLPs on every session of a window data set (the ``train`` stage)."""

import time
from collections.abc import Callable
from pathlib import Path

import torch

from euso.window_store import open_window_dataset
from quant.checkpoint import dataset_hashes, save_models
from quant.config import ModelConfig, TrainConfig
from quant.data import SessionSampler
from quant.training import prepare, train
from uvhunt.atomic import atomic_dir, check_output


def train_stage(
    windows: Path,
    out: Path,
    model: ModelConfig,
    training: TrainConfig,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict:
    """Train on all labelled sessions (validation split inside) and write the model folder."""
    check_output(out, [windows])
    start = time.perf_counter()
    torch.set_num_threads(2)
    sampler = SessionSampler(open_window_dataset(windows))
    sessions = sampler.labelled_sessions
    data = sampler.final_training_set(training.negatives, training.seed)
    result = train(prepare(data, model), model, training, progress)
    manifest = {
        "windows": str(windows),
        "dataset_hashes": dataset_hashes(windows),
        "units": sampler.units,
        "sessions": [sampler.names[s] for s in sessions],
        "meteor_windows": int((data.label == 1).sum()),
        "not_meteor_windows": int((data.label == 0).sum()),
        "history": result.history,
        "seconds": round(time.perf_counter() - start, 1),
    }
    with atomic_dir(out) as tmp:
        save_models(tmp, model, training, result.float_model, result.quant_model, manifest)
    return {"out": str(out), "model": model.to_dict(), **manifest}
