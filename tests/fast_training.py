"""Training settings small enough for tests (the defaults train for minutes)."""

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
