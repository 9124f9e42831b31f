"""The stack–gate coincidence (``stack_coincidence``): a Z fires with a gate code within
``FRAMES`` frames and ``PIXELS`` pixels, exactly as a direct comparison of every pair says,
at the focal surface's edges and the movie's ends; its thresholds are set beside the stack and
the gate for the rate held at the confidence."""

import numpy as np

from uvhunt.detection.event_quality import (
    above,
    either,
    fast_outcome,
    poisson_upper_limit,
)
from uvhunt.detection.events import Detections
from uvhunt.detection.stack_coincidence import (
    FRAMES,
    GATE_FRACTIONS,
    PIXELS,
    coincidence_point,
    coincident,
)
from uvhunt.euso.events import EventRecord
from uvhunt.euso.timing import D3_S


def _direct(tracks: Detections, gate: Detections) -> np.ndarray:
    """Whether each of ``tracks`` has one of ``gate`` within the frames and pixels: every pair
    compared."""
    return np.array(
        [
            bool(
                (
                    (np.abs(gate.frame - f) <= FRAMES)
                    & (np.abs(gate.row - r) <= PIXELS)
                    & (np.abs(gate.col - c) <= PIXELS)
                ).any()
            )
            for f, r, c in zip(tracks.frame, tracks.row, tracks.col, strict=True)
        ],
        bool,
    )


def test_a_z_fires_exactly_when_a_gate_code_lies_within_the_frames_and_pixels():
    rng = np.random.default_rng(7)
    frames = 12_388
    gate = Detections(
        rng.integers(0, frames, 400), rng.integers(0, 48, 400), rng.integers(0, 48, 400), None
    )
    # each gate code's neighbours at the limits: FRAMES and FRAMES + 1 frames, 1 and 2 pixels,
    # clipped to the focal surface; and random ones, some at the movie's ends
    picks = rng.integers(0, 400, 600)
    df = rng.choice([-FRAMES - 1, -FRAMES, 0, FRAMES, FRAMES + 1], 600)
    dr, dc = rng.choice([-2, -1, 0, 1, 2], (2, 600))
    frame = np.clip(gate.frame[picks] + df, 0, frames - 1)
    row = np.clip(gate.row[picks] + dr, 0, 47)
    col = np.clip(gate.col[picks] + dc, 0, 47)
    edges = np.array([0, 1, FRAMES, frames - 2, frames - 1])
    frame = np.concatenate([frame, rng.integers(0, frames, 300), np.repeat(edges, 20)])
    row = np.concatenate([row, rng.integers(0, 48, 300 + 5 * 20)])
    col = np.concatenate([col, rng.integers(0, 48, 300 + 5 * 20)])
    tracks = Detections(frame, row, col, np.arange(len(frame)))
    gate = Detections(gate.frame, gate.row, gate.col, np.ones(400, np.int64))
    expected = _direct(tracks, gate)
    assert 100 < expected.sum() < len(expected) - 100  # both answers, many times
    got = coincident(tracks, gate)
    np.testing.assert_array_equal(got.score, tracks.score[expected])
    for field in ("frame", "row", "col"):
        np.testing.assert_array_equal(getattr(got, field), getattr(tracks, field)[expected])


def test_without_gate_codes_nothing_fires():
    tracks = Detections(np.array([5, 9000]), np.array([0, 47]), np.array([3, 4]), np.array([1, 2]))
    empty = Detections(*(np.zeros(0, np.int64) for _ in range(4)))
    assert len(coincident(tracks, empty)) == 0
    assert len(coincident(empty, tracks)) == 0


def _meteor(i: int, frame: int, row: int, col: int) -> EventRecord:
    return EventRecord(i, "meteor", frame - 2, frame, row, col, row, col, magnitude=5.5)


def test_the_coincidence_is_set_beside_the_pair_for_the_rate_held():
    """Faint meteors make a Z and a gate code each below its own threshold, at the same place;
    noise makes high Z with no gate code near, and gate codes with no Z near. The coincidence
    catches the faint meteors the pair misses, its false events keep the rate at 90 %, and its
    threshold is the lowest Z that does at the code that catches the most."""
    frames = 400_000  # 4.55 h: 10 per hour at 90 % holds 40 false events
    n = 150
    at = np.arange(n) * 2_000 + 100
    rng = np.random.default_rng(3)
    row, col = rng.integers(2, 46, n), rng.integers(2, 46, n)
    faint = np.arange(n) % 3 == 0  # a third are meteors: Z 50–99, a code 1,000–1,199 beside
    z_score = np.where(faint, 50 + np.arange(n) % 50, 60 + np.arange(n) % 90)
    z_score[~faint & (np.arange(n) % 10 == 2)] += 100  # noise above the pair's Z of 120
    stack = Detections(at, row, col, z_score)
    code = np.where(faint, 1_000 + np.arange(n) % 200, 0)
    lone = ~faint & (np.arange(n) % 5 == 1)  # gate noise, codes 1,050–1,249, no Z near
    code[lone] = 1_050 + np.arange(n)[lone] % 200
    gate = Detections(
        np.where(faint, at + 10, at + 900)[code > 0], row[code > 0], col[code > 0], code[code > 0]
    )
    truth = [
        _meteor(i, int(f), int(r), int(c))
        for i, (f, r, c) in enumerate(zip(at, row, col, strict=True))
    ]
    truth = [t for t, m in zip(truth, faint, strict=True) if m]
    movies = ([(stack, truth, frames)], [(gate, truth, frames)])
    point = coincidence_point(*movies, 120, 1_333, 10.0, 4, 0, 0.9)
    assert point["frames"] == FRAMES and point["pixels"] == PIXELS
    assert point["gate_code"] in [int(1_333 * f) for f in GATE_FRACTIONS]
    pair = either(above(stack, 120), above(gate, 1_333))
    assert not fast_outcome(pair, truth, 4).caught  # the pair alone catches none of them

    def fired(threshold, code):
        return either(pair, coincident(above(stack, threshold), above(gate, code)))

    allowed = 10.0 * frames * D3_S / 3600

    def held(threshold, code):
        return poisson_upper_limit(fast_outcome(fired(threshold, code), truth, 4).false_events, 0.9)

    found = fast_outcome(fired(point["threshold"], point["gate_code"]), truth, 4)
    assert found.caught and held(point["threshold"], point["gate_code"]) <= allowed
    assert point["figures"]["meteors_caught"] == len(found.caught)
    for code in [int(1_333 * f) for f in GATE_FRACTIONS]:  # no code does better, held
        lowest = min(t for t in np.unique(stack.score) if held(t, code) <= allowed)
        assert len(fast_outcome(fired(lowest, code), truth, 4).caught) <= len(found.caught)
