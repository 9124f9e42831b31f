"""Detection figures: ROC AUC, efficiency at a fixed false-positive rate per window, and
efficiency versus meteor magnitude."""

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

FALSE_POSITIVE_RATES = (1e-3, 1e-4)
"""False positives per not-meteor window at which efficiencies are quoted."""
MAGNITUDE_BINS = np.arange(-1.0, 8.0, 1.0)


def auc(label: np.ndarray, score: np.ndarray) -> float:
    return float(roc_auc_score(label, score))


def threshold_at(label: np.ndarray, score: np.ndarray, fpr: float) -> float:
    """Smallest score threshold whose false-positive rate (score > threshold) is <= fpr."""
    negatives = np.sort(score[label == 0])[::-1]
    allowed = int(np.floor(fpr * negatives.size))
    return float(negatives[allowed]) if allowed < negatives.size else float(negatives[-1])


def efficiency_at(label: np.ndarray, score: np.ndarray, fpr: float) -> float:
    """Fraction of meteor windows scoring above the threshold of false-positive rate fpr."""
    return float(np.mean(score[label == 1] > threshold_at(label, score, fpr)))


def roc(label: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    fpr, tpr, _ = roc_curve(label, score)
    return fpr, tpr


def efficiency_by_magnitude(
    event: np.ndarray, magnitude: np.ndarray, score: np.ndarray, threshold: float
) -> list[dict]:
    """Per magnitude bin: meteors, and the fraction detected (any window above threshold)."""
    has = event >= 0
    events, first = np.unique(event[has], return_index=True)
    best = np.full(events.size, -np.inf)
    np.maximum.at(best, np.searchsorted(events, event[has]), score[has])
    mags = magnitude[has][first]
    rows = []
    for lo in MAGNITUDE_BINS:
        inside = (mags >= lo) & (mags < lo + 1)
        rows.append(
            {
                "magnitude": f"{lo:+.0f}…{lo + 1:+.0f}",
                "meteors": int(inside.sum()),
                "detected": int((best[inside] > threshold).sum()),
            }
        )
    return rows
