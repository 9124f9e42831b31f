"""Model folders: the trained float and QAT models with their configs and data hashes.

config.json      model and training configs
float.pt, qat.pt state dicts (torch)
manifest.json    data set (folder, hashes, counts), training history, timings
trained_on.npy   rows of the window data set the final models trained on (int64; absent in
                 folders saved before it was kept)
"""

import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from uvhunt._core.atomic import write_json
from uvhunt._core.errors import UvhuntError
from uvhunt.quant.config import ModelConfig, TrainConfig, load_configs
from uvhunt.quant.models import FloatMLP, QuantMLP

HASHED_FILES = ("dataset.json", "label.npy", "source.npy", "values.npy")


def file_sha256(path: Path, block: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def dataset_hashes(folder: Path) -> dict[str, str]:
    return {name: file_sha256(Path(folder) / name) for name in HASHED_FILES}


def save_models(
    folder: Path,
    model: ModelConfig,
    train: TrainConfig,
    float_model: FloatMLP,
    quant_model: QuantMLP,
    manifest: dict,
    trained_on: np.ndarray | None = None,
) -> None:
    """Write a model folder; ``trained_on``: the data-set rows of the final training set."""
    folder = Path(folder)
    write_json(folder / "config.json", {"model": model.to_dict(), "train": train.to_dict()})
    torch.save(float_model.state_dict(), folder / "float.pt")
    torch.save(quant_model.state_dict(), folder / "qat.pt")
    write_json(folder / "manifest.json", manifest)
    if trained_on is not None:
        np.save(folder / "trained_on.npy", np.asarray(trained_on, np.int64))


def load_trained_on(folder: Path) -> np.ndarray | None:
    """The data-set rows a model folder's final models trained on (None for folders saved
    before they were kept)."""
    path = Path(folder) / "trained_on.npy"
    if not path.is_file():
        return None
    try:
        return np.load(path).astype(np.int64)
    except (OSError, ValueError) as exc:
        raise UvhuntError(
            f"trained_on.npy is damaged ({exc})", path=path, fix="train the model again"
        ) from exc


def load_models(folder: Path) -> tuple[ModelConfig, TrainConfig, FloatMLP, QuantMLP, dict]:
    folder = Path(folder)
    for name in ("config.json", "float.pt", "qat.pt", "manifest.json"):
        if not (folder / name).is_file():
            raise UvhuntError(
                f"model folder lacks {name}",
                path=folder,
                fix="save a trained model folder with save_models",
            )
    try:
        model_config, train_config = load_configs(folder / "config.json")
        model_config.validate()
        float_model, quant_model = FloatMLP(model_config), QuantMLP(model_config)
        float_model.load_state_dict(torch.load(folder / "float.pt", weights_only=True))
        quant_model.load_state_dict(torch.load(folder / "qat.pt", weights_only=True))
        manifest = json.loads((folder / "manifest.json").read_text())
    except UvhuntError:
        raise
    except Exception as exc:
        raise UvhuntError(
            f"model folder is damaged ({type(exc).__name__}: {exc})",
            path=folder,
            fix="train and save the model again",
        ) from exc
    return model_config, train_config, float_model.eval(), quant_model.eval(), manifest
