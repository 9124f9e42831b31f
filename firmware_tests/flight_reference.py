"""What the flight trigger (``hls/flight_trigger.py``) must put out for a stream of raw counts,
and the comparison of what it did put out: the one reference of its Amaranth test, its
Verilator co-simulation and its benchmark.

The trigger core's beat is compared with ``CoreReference`` (the golden scoring and the peak
gate's integers); the stack trigger's with the track stack's integer twin (Z where valid, the
trigger bit) and the stack–gate coincidence with ``coincident`` on the twin's Z and the
reference's low gate bits."""

from dataclasses import dataclass

import numpy as np

from uvhunt.detection.track_stack_integer import NO_SCORE, IntegerTrackStack
from uvhunt.firmware_tests.coincidence_reference import coincidence_bits
from uvhunt.firmware_tests.core_reference import CoreReference

HELD = (
    "threshold",
    "gate_threshold",
    "gate_low_threshold",
    "stack_threshold",
    "coincidence_threshold",
)
"""The flight trigger's threshold ports, held through a stream: the network's score, the
peak gate's two codes, the stack's Z and the coincidence's Z (Z in units of 2^-F σ)."""
CORE_FIELDS = (
    "m_score",
    "m_trig",
    "m_window_valid",
    "m_gate_trig",
    "m_gate_low",
    "m_tuser",
    "m_tlast",
    "m_count",
    "m_frame_trig",
    "m_seu_corrected",
    "m_seu_detected",
)
"""The trigger core's output ports compared, in the order of a core beat (the upset flags
must stay 0 in a fault-free stream)."""
STACK_FIELDS = ("m_z", "m_z_valid", "m_stack_trig", "m_coinc", "m_stack_tuser")
"""The stack trigger's output ports compared, in the order of a stack beat."""


@dataclass
class FlightExpected:
    """Every output beat of a stream of ``frames`` × ``pixels`` raw values, by field."""

    core: dict[str, np.ndarray]
    """``CORE_FIELDS`` → (frames, pixels) int64."""
    stack: dict[str, np.ndarray]
    """``STACK_FIELDS`` → (frames, pixels) int64; ``m_z`` holds the twin's Z of frame
    f − lag at the beat of frame f, compared only where ``m_z_valid``."""

    @property
    def triggers(self) -> dict[str, int]:
        """Set bits of each trigger output: the stream's reach."""
        bits = {k: self.core[k] for k in ("m_trig", "m_gate_trig", "m_gate_low")}
        bits.update({k: self.stack[k] for k in ("m_stack_trig", "m_coinc")})
        return {k: int(v.sum()) for k, v in bits.items()}


def expected_flight(
    reference: CoreReference,
    stack: IntegerTrackStack,
    side: int,
    lag: int,
    first_z: int,
    reach: tuple[int, int],
    raw: np.ndarray,
    held: dict[str, int],
    excluded: np.ndarray,
) -> FlightExpected:
    """The outputs for raw counts ``raw`` (frames, side²) of the pixels in the top-left
    ``side`` × ``side`` corner, ``held`` (``HELD``) thresholds, ``excluded`` (side²,) bools;
    ``lag``, ``first_z``: the stack trigger's (``StackTrigger.lag``, ``.first_z``);
    ``reach``: the coincidence's frames and pixels."""
    frames, pixels = raw.shape
    excluded = np.asarray(excluded, bool)
    every = np.ones(frames, np.int64)
    want = reference.expected(
        raw,
        every * held["threshold"],
        excluded,
        every * held["gate_threshold"],
        every * held["gate_low_threshold"],
    )
    marks = np.arange(pixels)
    first_pixel = np.tile(marks == 0, (frames, 1))
    valid = np.tile(want.window_valid[:, None], (1, pixels))
    count = np.cumsum(want.trigger, axis=1)  # pixels triggered so far in the frame
    core = {
        "m_score": np.where(valid, want.score, 0),
        "m_trig": want.trigger,
        "m_window_valid": valid,
        "m_gate_trig": want.gate_trigger,
        "m_gate_low": want.gate_low,
        "m_tuser": first_pixel,
        "m_tlast": np.tile(marks == pixels - 1, (frames, 1)),
        "m_count": count,
        "m_frame_trig": count > 0,
        "m_seu_corrected": np.zeros((frames, pixels), bool),
        "m_seu_detected": np.zeros((frames, pixels), bool),
    }
    raw48 = np.zeros((frames, 48, 48), np.int64)
    raw48[:, :side, :side] = raw.reshape(frames, side, side)
    excluded48 = np.zeros((48, 48), bool)
    excluded48[:side, :side] = excluded.reshape(side, side)
    twin = stack.stacked(raw48, excluded48, NO_SCORE, np.int32)[:, :side, :side]
    twin = twin.reshape(frames, pixels)
    z = np.zeros((frames, pixels), np.int64)
    z_valid = np.zeros((frames, pixels), bool)
    if frames > first_z:
        z[first_z:] = twin[first_z - lag : frames - lag]
        z_valid[first_z:] = ~excluded
    above = z_valid & (z > held["coincidence_threshold"])
    stack_out = {
        "m_z": z,
        "m_z_valid": z_valid,
        "m_stack_trig": z_valid & (z > held["stack_threshold"]),
        "m_coinc": coincidence_bits(above, want.gate_low, side, lag, *reach),
        "m_stack_tuser": first_pixel,
    }
    as_int = {k: np.asarray(v, np.int64) for k, v in core.items()}
    return FlightExpected(as_int, {k: np.asarray(v, np.int64) for k, v in stack_out.items()})


def flight_mismatches(
    expected: FlightExpected, core_beats: np.ndarray, stack_beats: np.ndarray
) -> dict[str, int]:
    """Outputs that differ, by port: ``core_beats`` (frames, pixels, ``CORE_FIELDS``) and
    ``stack_beats`` (frames, pixels, ``STACK_FIELDS``) as the design gave them, in stream
    order (a missing beat counts as every one of its fields differing). Z is compared where
    the reference has it valid."""
    found = {}
    for fields, beats, want in (
        (CORE_FIELDS, core_beats, expected.core),
        (STACK_FIELDS, stack_beats, expected.stack),
    ):
        shape = want[fields[0]].shape
        got = np.full((*shape, len(fields)), np.iinfo(np.int64).min, np.int64)
        flat = np.asarray(beats, np.int64).reshape(-1, len(fields))[: int(np.prod(shape))]
        got.reshape(-1, len(fields))[: len(flat)] = flat
        for index, name in enumerate(fields):
            differ = got[..., index] != want[name]
            if name == "m_z":
                differ &= expected.stack["m_z_valid"].astype(bool)
            found[name] = int(differ.sum())
    return found


def case_arrays(
    name: str, raw: np.ndarray, held: dict[str, int], excluded: np.ndarray, want: FlightExpected
) -> dict[str, np.ndarray]:
    """One stream of the co-simulation (``flight_tests``) as arrays named ``<name>/…``: the
    raw counts, the held thresholds, the excluded pixels (written through the mask port)
    and every expected output."""
    arrays = {"raw": np.asarray(raw), "excluded": np.asarray(excluded, bool)}
    arrays.update({f"held/{k}": np.asarray(held[k]) for k in HELD})
    arrays.update({f"core/{k}": v for k, v in want.core.items()})
    arrays.update({f"stack/{k}": v for k, v in want.stack.items()})
    return {f"{name}/{k}": v for k, v in arrays.items()}


def read_case(data, name: str) -> tuple[np.ndarray, dict[str, int], np.ndarray, FlightExpected]:
    """(raw, held, excluded, expected) of ``case_arrays``' ``name`` in ``data`` (a mapping,
    such as an opened ``.npz``)."""
    raw, excluded = np.asarray(data[f"{name}/raw"]), np.asarray(data[f"{name}/excluded"])
    held = {k: int(data[f"{name}/held/{k}"]) for k in HELD}
    want = FlightExpected(
        {k: np.asarray(data[f"{name}/core/{k}"]) for k in CORE_FIELDS},
        {k: np.asarray(data[f"{name}/stack/{k}"]) for k in STACK_FIELDS},
    )
    return raw, held, excluded, want
