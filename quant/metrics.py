"""Detection figures: ROC AUC, efficiency at a fixed false-positive rate per window, and
efficiency versus meteor magnitude."""

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

FALSE_POSITIVE_RATES = (1e-3, 1e-4)
"""False positives per not-meteor window at which efficiencies are quoted."""
MAGNITUDE_BINS = np.arange(-1.0, 8.0, 1.0)


def auc(label: np.ndarray, score: np.ndarray) -> float:
    return float(roc_auc_score(label, score))


def hardware_accuracy(
    label: np.ndarray, float_logits: np.ndarray, hardware_logits: np.ndarray, hardware: str
) -> dict:
    """The float model against a hardware model (``hardware``: "csim", "rtl") on the same
    windows: each ROC AUC, the quantization loss (float − hardware AUC) and the logit
    deviation. AUCs and loss are None when the windows hold one class only."""
    both = len(np.unique(label)) == 2
    float_auc = auc(label, float_logits) if both else None
    hardware_auc = auc(label, hardware_logits) if both else None
    deviation = np.abs(np.asarray(hardware_logits) - np.asarray(float_logits))
    return {
        "windows": int(len(label)),
        "meteor_windows": int((label == 1).sum()),
        "float_auc": float_auc,
        f"{hardware}_auc": hardware_auc,
        "quantization_loss": float_auc - hardware_auc if both else None,
        "logit_deviation_mean": float(deviation.mean()) if deviation.size else None,
        "logit_deviation_max": float(deviation.max()) if deviation.size else None,
    }


def threshold_at(label: np.ndarray, score: np.ndarray, fpr: float) -> float:
    """Smallest score threshold whose false-positive rate (score > threshold) is <= fpr."""
    values, counts = np.unique(score[label == 0], return_counts=True)
    return float(threshold_for_rate(values, counts, fpr))


def threshold_for_rate(values: np.ndarray, counts: np.ndarray, fpr: float):
    """The smallest of ``values`` (ascending; ``counts[i]`` scores equal ``values[i]``) that at
    most ``fpr`` of all the scores exceed (score > threshold): the trigger rule of every
    threshold in uvhunt, from a sample of scores or a histogram of integer scores."""
    exceed = counts.sum() - np.cumsum(counts)  # exceed[i]: scores above values[i]
    return values[int(np.argmax(exceed <= fpr * counts.sum()))]


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
