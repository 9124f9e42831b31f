"""Training and test sets drawn from a window data set, session by session."""

from dataclasses import dataclass

import numpy as np

from uvhunt._core.errors import UvhuntError
from uvhunt.euso.window_store import WindowDataset, open_window_dataset
from uvhunt.quant.config import TrainConfig


@dataclass
class WindowSet:
    """Windows drawn from a data set: values in the data set's units, with their truth."""

    values: np.ndarray
    """(N, length) float32."""
    label: np.ndarray
    session: np.ndarray
    meteor_event: np.ndarray
    meteor_magnitude: np.ndarray
    confuser: np.ndarray
    units: str
    in_sample: np.ndarray
    """True for meteors and uniformly drawn negatives (an unbiased sample for ROC figures);
    False for windows added because they hold some meteor light."""
    index: np.ndarray | None = None
    """Row of each window in the data set (None for windows from elsewhere)."""

    def __len__(self) -> int:
        return len(self.label)


class SessionSampler:
    """Indexes a window data set by session and class, and draws sets from it."""

    def __init__(self, dataset: WindowDataset):
        self.dataset = dataset
        self.label = np.asarray(dataset.label)
        self.session = np.asarray(dataset.source)
        self.meteor_event = np.asarray(dataset.meteor_event)
        self.confuser = np.asarray(dataset.confuser)
        self.units = dataset.meta["units"]
        self.names = [s["name"] for s in dataset.meta["sources"]]
        labelled = self.label >= 0
        if not labelled.any():
            raise UvhuntError(
                "the data set carries no labels (real data without truth)",
                path=dataset.folder,
                fix="train on simulated sessions, which carry their truth",
            )
        for label, name in ((1, "meteor"), (0, "not-meteor")):
            if not (self.label == label).any():
                raise UvhuntError(
                    f"the data set holds no {name} windows: one class only",
                    path=dataset.folder,
                    fix="use more or longer sessions, or a lower label S/N threshold",
                    setting="label_snr",
                )

    @property
    def sessions(self) -> list[int]:
        """Sessions holding meteor windows (others cannot be scored by ROC AUC)."""
        return sorted(int(s) for s in np.unique(self.session[self.label == 1]))

    def draw(
        self,
        sessions: list[int],
        negatives: int,
        rng: np.random.Generator,
        all_meteor_light: bool = False,
        confusers: int = 0,
    ) -> WindowSet:
        """Every meteor window of ``sessions`` and ``negatives`` not-meteor windows drawn
        uniformly (without replacement), plus ``confusers`` hard negatives (see
        ``drawn_negatives``). With ``all_meteor_light`` the not-meteor windows that hold some
        meteor light are added too (for efficiency versus magnitude)."""
        in_sessions = np.isin(self.session, sessions)
        positive = np.flatnonzero(in_sessions & (self.label == 1))
        negative = np.flatnonzero(in_sessions & (self.label == 0))
        chosen = self.drawn_negatives(sessions, negatives, rng, confusers)
        sample = np.concatenate([positive, chosen])
        extra = negative[self.meteor_event[negative] >= 0] if all_meteor_light else sample[:0]
        index = np.unique(np.concatenate([sample, extra]))
        return self.take(index, np.isin(index, sample))

    @property
    def labelled_sessions(self) -> list[int]:
        """Sessions with truth (every window labelled 0 or 1)."""
        return [int(s) for s in np.unique(self.session[self.label >= 0])]

    def training_set(
        self, sessions: list[int], train: TrainConfig, rng: np.random.Generator
    ) -> WindowSet:
        """What a model trains on from ``sessions``: ``draw`` with the negatives and hard
        negatives of ``train``."""
        return self.draw(sessions, train.negatives, rng, confusers=train.confuser_negatives)

    def final_training_negatives(self, train: TrainConfig) -> np.ndarray:
        """Indices of the not-meteor windows the final model's training set draws from every
        labelled session with its seed (before any mined ones: ``hard_negatives``)."""
        return self.drawn_negatives(
            self.labelled_sessions,
            train.negatives,
            np.random.default_rng(train.seed),
            train.confuser_negatives,
        )

    def drawn_negatives(
        self,
        sessions: list[int],
        negatives: int,
        rng: np.random.Generator,
        confusers: int = 0,
    ) -> np.ndarray:
        """The not-meteor windows ``draw`` picks: ``negatives`` uniformly, then ``confusers``
        hard negatives, uniformly among the other not-meteor windows where a confuser (city
        or ship light, lightning, ELVE, hot pixel) adds at least the data set's
        ``confuser_snr`` (all without replacement)."""
        negative = self.negatives_of(sessions)
        chosen = rng.choice(negative, min(negatives, negative.size), replace=False)
        if not confusers:
            return chosen
        hard = np.setdiff1d(negative[self.confuser[negative] >= 0], chosen)
        extra = rng.choice(hard, min(confusers, hard.size), replace=False)
        return np.concatenate([chosen, extra])

    def take(self, index: np.ndarray, in_sample: np.ndarray) -> WindowSet:
        d = self.dataset
        return WindowSet(
            np.asarray(d.values[index], dtype=np.float32),
            self.label[index],
            self.session[index],
            self.meteor_event[index],
            np.asarray(d.meteor_magnitude[index]),
            np.asarray(d.confuser[index]),
            self.units,
            in_sample,
            np.asarray(index),
        )

    def negatives_of(self, sessions: list[int]) -> np.ndarray:
        """Rows of every not-meteor window of ``sessions``."""
        return np.flatnonzero(np.isin(self.session, sessions) & (self.label == 0))


COMPARISON_NEGATIVES = 20_000
"""Not-meteor windows the final training did not draw, picked uniformly (with every meteor
window, which training did use) for test benches, the exactness checks and the float-versus-
hardware ROC AUC."""


def comparison_windows(
    windows,
    train: TrainConfig,
    seed: int,
    negatives: int = COMPARISON_NEGATIVES,
    trained_on: np.ndarray | None = None,
) -> WindowSet:
    """The real windows every firmware check is scored on: every meteor window of the data set
    in folder ``windows`` and a uniform draw of the not-meteor windows that the final training
    did not use. ``trained_on``: the rows it used (``checkpoint.load_trained_on``); without
    them (model folders saved before they were kept) the negatives that ``train`` draws are
    left out, but its mined hard negatives are not known and may be among those drawn."""
    sampler = SessionSampler(open_window_dataset(windows))
    meteors = np.flatnonzero(sampler.label == 1)
    if trained_on is None:
        trained_on = sampler.final_training_negatives(train)
    others = np.setdiff1d(np.flatnonzero(sampler.label == 0), trained_on)
    rng = np.random.default_rng(seed)
    index = np.unique(
        np.concatenate([meteors, rng.choice(others, min(negatives, others.size), replace=False)])
    )
    return sampler.take(index, np.ones(index.size, bool))
