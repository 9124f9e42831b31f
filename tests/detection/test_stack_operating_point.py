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
    beside = point["coincidence"]  # set beside the pair (``stack_coincidence``), held too
    assert isinstance(beside["threshold"], int) and isinstance(beside["gate_code"], int)
    assert beside["measured"]["held"]
    assert beside["measured"]["meteors_caught"] >= shared["measured"]["meteors_caught"]


def test_a_gate_share_that_breaks_the_rate_is_not_kept_for_its_meteors():
    """0.415 h hold 10 false events per hour at 90 % with at most one false event. A gate
    share of 5 or 7 per hour, set as counted, already spends two: the gate then catches more
    meteors than the stack could beside a share of 3, but the rate is not held there."""
    frames = 36_500  # 0.415 h
    gate_kinds = ["false", "false"] + ["meteor"] * 5 + ["false"] * 5  # by falling score
    stack_kinds = ["meteor"] * 2 + ["false"] * 5
    gate = Detections(
        np.arange(len(gate_kinds)) * 1_000 + 10,
        np.full(len(gate_kinds), 5),
        np.full(len(gate_kinds), 5),
        np.arange(len(gate_kinds))[::-1],
    )
    stack = Detections(
        np.arange(len(stack_kinds)) * 1_000 + 500,
        np.full(len(stack_kinds), 30),
        np.full(len(stack_kinds), 30),
        np.arange(len(stack_kinds))[::-1],
    )
    truth = [
        EventRecord(i, "meteor", f - 2, f, r, c, r, c, magnitude=4.5)
        for i, (f, r, c) in enumerate(
            [(int(gate.frame[j]), 5.0, 5.0) for j, k in enumerate(gate_kinds) if k == "meteor"]
            + [
                (int(stack.frame[j]), 30.0, 30.0)
                for j, k in enumerate(stack_kinds)
                if k == "meteor"
            ]
        )
    ]
    point = stack_operating_point(
        IntegerTrackStack(), [(stack, truth, frames)], [(gate, truth, frames)], 10.0, 4, 0
    )
    assert point["hours"] > point["hours_needed"]
    unheld = stack_beside_gate([(stack, truth, frames)], [(gate, truth, frames)], 5.0, 10.0, 4, 0)
    assert unheld[2]["false_events"] == 2 and unheld[2]["meteors_caught"] == 5
    shared = point["with_gate"]
    assert shared["gate_share"] == 3.0 and shared["measured"]["held"]
    assert shared["measured"]["false_events"] == 1 and shared["measured"]["meteors_caught"] == 2
