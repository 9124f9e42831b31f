"""The track stack trigger's stored thresholds: the rate held at a confidence (the Poisson
upper limit of the false events counted), alone and beside the peak gate at the share that
catches the most meteors; integers for the integer twin."""

import numpy as np

from uvhunt.detection.event_quality import above, fast_outcome, poisson_upper_limit
from uvhunt.detection.events import Detections
from uvhunt.detection.stack_operating_point import (
    GATE_SHARES,
    stack_beside_gate,
    stack_operating_point,
)
from uvhunt.detection.track_stack_integer import IntegerTrackStack
from uvhunt.euso.events import EventRecord
from uvhunt.euso.timing import D3_S

FRAMES = 400_000
"""Frames of the movie (4.55 h): enough to hold 10 false events per hour at 90 %."""


def _isolated(n: int, offset: int, seed: int) -> Detections:
    """``n`` detections far apart (one event each), scores a permutation of 0 … n − 1."""
    rng = np.random.default_rng(seed)
    frame = np.arange(n) * 1_000 + offset
    return Detections(frame, rng.integers(0, 48, n), rng.integers(0, 48, n), rng.permutation(n))


def test_the_stored_thresholds_hold_the_rate_at_the_confidence():
    stack, gate = _isolated(300, 10, 1), _isolated(300, 500, 2)
    truth = [  # every third stack detection and every fifth gate one lie on a meteor
        EventRecord(
            i,
            "meteor",
            int(d.frame[j]) - 2,
            int(d.frame[j]),
            *[float(d.row[j]), float(d.col[j])] * 2,
            magnitude=4.5,
        )
        for i, (d, j) in enumerate(
            [(stack, j) for j in range(0, 300, 3)] + [(gate, j) for j in range(0, 300, 5)]
        )
    ]
    hours = FRAMES * D3_S / 3600
    point = stack_operating_point(
        IntegerTrackStack(), [(stack, truth, FRAMES)], [(gate, truth, FRAMES)], 10.0, 4, 0
    )
    allowed = 10.0 * hours  # false events the rate allows in the movie

    def false_events(threshold):
        return fast_outcome(above(stack, threshold), truth, 4)

    alone = point["alone"]
    assert isinstance(alone["threshold"], int)
    assert alone["threshold"] == min(
        t for t in stack.score if poisson_upper_limit(false_events(t).false_events, 0.9) <= allowed
    )
    assert alone["measured"]["held"] and alone["measured"]["upper_limit_per_hour"] <= 10.0
    assert alone["measured"]["false_events_per_hour"] < 10.0  # below it, by the confidence
    shared = point["with_gate"]
    assert shared["gate_share"] in GATE_SHARES and isinstance(shared["gate_code"], int)
    assert shared["measured"]["held"] and shared["threshold"] >= alone["threshold"]
    caught = {
        share: stack_beside_gate(
            [(stack, truth, FRAMES)], [(gate, truth, FRAMES)], share, 10.0, 4, 0
        )[2]["meteors_caught"]
        for share in GATE_SHARES
    }
    assert shared["measured"]["meteors_caught"] == max(caught.values())
    assert len(set(caught.values())) > 1  # the share matters here
    assert point["hours"] == hours > point["hours_needed"]
