"""The stack–gate coincidence's bit at each beat of a streaming core (``hls/stack_coincidence.py``,
``hls/stack_trigger.py``, ``hls/flight_trigger.py``): ``detection.stack_coincidence.coincident``
on what the beats carry, the one reference of their tests and benchmark."""

import numpy as np

from uvhunt.detection.events import Detections
from uvhunt.detection.stack_coincidence import FRAMES, PIXELS, coincident


def coincidence_bits(
    above: np.ndarray,
    gate: np.ndarray,
    side: int,
    lag: int,
    frames: int = FRAMES,
    reach: int = PIXELS,
) -> np.ndarray:
    """(beats' frames, side²) bools: the coincidence at each beat. ``above``: the same shape,
    the beat's Z valid and above the coincidence's threshold (Z of frame f − ``lag`` at the
    beat of frame f); ``gate``: the gate's bit of the beat's own pixel-frame; ``frames``,
    ``reach``: the coincidence's frames and rows and columns."""
    rows, cols = np.divmod(np.arange(side * side), side)
    f, p = np.nonzero(above)
    g, q = np.nonzero(gate)
    found = coincident(
        Detections(f - lag, rows[p], cols[p], np.ones(len(f))),
        Detections(g, rows[q], cols[q], np.ones(len(g))),
        frames,
        reach,
    )
    bits = np.zeros(np.shape(above), bool)
    bits[found.frame + lag, found.row * side + found.col] = True
    return bits
