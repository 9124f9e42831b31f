"""Training settings small enough for tests (the defaults train for minutes), and a model
trained and exported with them."""

from uvhunt.cli import main
from uvhunt.quant.config import TrainConfig

HARD_NEGATIVE_FLAGS = ["--confuser-negatives", "500", "--mined-negatives", "500"]
"""A few hundred hard negatives of each kind instead of the defaults' 20,000."""
TRAIN_FLAGS = ["--negatives", "2000", *HARD_NEGATIVE_FLAGS, "--max-epochs", "3", "--quiet"]
"""``uvhunt train`` options of a quick model."""


def fast_train_config(negatives: int, max_epochs: int, hard: int) -> TrainConfig:
    """A quick ``TrainConfig``: ``hard`` confuser and ``hard`` mined negatives."""
    return TrainConfig(
        negatives=negatives,
        confuser_negatives=hard,
        mined_negatives=hard,
        max_epochs=max_epochs,
        qat_epochs=2,
        patience=2,
    )


def train_and_export(window_folder, root, train_flags):
    """``root`` holding ``model/`` (uvhunt train with ``train_flags``) and ``export/``
    (uvhunt export)."""
    w = ["--windows", str(window_folder)]
    assert main(["train", *w, "--out", str(root / "model"), *train_flags]) == 0
    sessions = ["--sessions", str(window_folder.parent)]
    out = ["--out", str(root / "export"), "--quiet"]
    assert main(["export", "--model", str(root / "model"), *w, *sessions, *out]) == 0
    return root
