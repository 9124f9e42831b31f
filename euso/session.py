"""Synthetic Mini-EUSO sessions: the scene, the detector and the events of one seed, in chunks.

A session is fully determined by its ``SessionConfig`` and seed. Everything random about
the session (conditions, scene, events) is drawn first from one stream; the Poisson noise
of frame block ``k`` (``CHUNK_FRAMES`` frames) comes from its own child stream ``k``, so
the numbers do not depend on how the caller iterates.

Units: ``expected`` and counts are raw D3 values — photons summed over the 16,384 GTUs of
one D3 frame (about 16,384 at 1 count/pixel/GTU).
"""

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

import numpy as np

from uvhunt.euso.atmospherics import sample_elves, sample_lightning
from uvhunt.euso.conditions import ConditionRanges, Conditions
from uvhunt.euso.detector import Detector, sample_detector
from uvhunt.euso.events import KIND_CODE, EventRecord
from uvhunt.euso.lights import sample_lights
from uvhunt.euso.meteors import MeteorConfig, sample_meteors
from uvhunt.euso.render import merge_coo
from uvhunt.euso.scene import GroundScene, GroundTrack
from uvhunt.euso.timing import D3_GTUS, D3_S

CHUNK_FRAMES = 512
"""Frames per noise block (fixed: part of what a seed means)."""
TRANSIENT_TRUTH_MIN_COUNTS = 1.0
"""Meteor, lightning and ELVE light is kept in the truth down to this many raw counts."""
LIGHT_TRUTH_MIN_SIGMA = 1.0
"""Ground lights and hot pixels are kept where they add at least this many σ of noise."""
FIRST_SESSION_UNIX = 1570406400.0
"""2019-10-07 00:00 UTC, the first Mini-EUSO observing night; default session start."""


@dataclass(frozen=True)
class SessionConfig:
    """What a synthetic session is drawn from."""

    frames: int = 4096
    """Session length, D3 frames (87,890 per hour)."""
    meteors: MeteorConfig = field(default_factory=MeteorConfig)
    conditions: ConditionRanges = field(default_factory=ConditionRanges)
    start_unix: float = FIRST_SESSION_UNIX

    def validate(self) -> "SessionConfig":
        if self.frames < 1:
            raise ValueError(f"frames must be >= 1 (got {self.frames})")
        self.meteors.validate()
        return self

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Truth:
    """Expected light of every event in every pixel and frame where it is not negligible.

    COO arrays of equal length: ``frame``, ``row``, ``col``, ``event`` (id in the event
    list), ``counts`` (expected raw D3 counts from that event, after the pixel's efficiency)
    and ``expected`` (expected raw counts of everything in that pixel and frame).
    """

    frame: np.ndarray
    row: np.ndarray
    col: np.ndarray
    event: np.ndarray
    counts: np.ndarray
    expected: np.ndarray

    COLUMNS = ("frame", "row", "col", "event", "counts", "expected")
    DTYPES = (np.int32, np.uint8, np.uint8, np.int32, np.float32, np.float32)

    @classmethod
    def concatenate(cls, parts: list["Truth"]) -> "Truth":
        if not parts:
            return cls(*(np.zeros(0, d) for d in cls.DTYPES))
        return cls(*(np.concatenate([getattr(p, c) for p in parts]) for c in cls.COLUMNS))

    def __len__(self) -> int:
        return len(self.frame)

    def select(self, mask: np.ndarray) -> "Truth":
        return Truth(*(getattr(self, c)[mask] for c in self.COLUMNS))


@dataclass
class Chunk:
    start: int
    counts: np.ndarray
    """(T, 48, 48) uint32 raw D3 counts."""
    truth: Truth


@dataclass
class _Source:
    event_id: int
    kind: str
    first: int
    end: int
    """First frame and one past the last."""
    light: Callable[[int, int], tuple | None]
    min_sigma: float | None
    """Keep truth where counts >= min_sigma·sqrt(expected); None: >= TRANSIENT_TRUTH_MIN_COUNTS."""


class SessionSimulator:
    """Draws one session from its config and seed; ``chunks()`` renders it block by block."""

    def __init__(self, config: SessionConfig, seed: int):
        self.config = config.validate()
        self.seed = int(seed)
        setup, noise = np.random.SeedSequence(self.seed).spawn(2)
        rng = np.random.default_rng(setup)
        frames = config.frames
        self._noise_seeds = noise.spawn(-(-frames // CHUNK_FRAMES))
        self.conditions: Conditions = config.conditions.sample(rng)
        self.track = GroundTrack(frames, self.conditions.drift_angle_deg)
        self.scene = GroundScene(self.track, self.conditions, rng)
        self.detector: Detector = sample_detector(rng, self.conditions)
        meteors = sample_meteors(rng, config.meteors, frames)
        lightning = sample_lightning(rng, self.scene, self.conditions.lightning_per_hour, frames)
        elves = sample_elves(rng, self.conditions.elves_per_hour, frames)
        lights = sample_lights(rng, self.scene, config.meteors.psf_sigma_px)
        self.events: list[EventRecord] = []
        self._sources: list[_Source] = []
        substeps = config.meteors.substeps
        for m in meteors:
            self._add(
                m.record(len(self.events)), lambda f0, f1, m=m: m.light(f0, f1, substeps), None
            )
        for x in [*lightning, *elves]:
            self._add(
                x.record(len(self.events), self.scene),
                lambda f0, f1, x=x: x.light(f0, f1, self.scene),
                None,
            )
        for light in lights:
            span = light.span(self.scene)
            if span[1] > span[0]:
                self._add(
                    light.record(len(self.events), self.scene, span),
                    lambda f0, f1, g=light: g.light(f0, f1, self.scene),
                    LIGHT_TRUTH_MIN_SIGMA,
                )
        self._hot_events = []
        for row, col in self.detector.hot_pixels:
            event = EventRecord(
                len(self.events),
                "hot_pixel",
                0,
                frames - 1,
                row,
                col,
                row,
                col,
                peak_flux_per_gtu=float(self.detector.hot_rate[row, col] / D3_GTUS),
            )
            self.events.append(event)
            self._hot_events.append(event)

    def _add(self, record: EventRecord, light, min_sigma: float | None) -> None:
        record.end_frame = min(record.end_frame, self.frames - 1)  # cut by the session's end
        self.events.append(record)
        self._sources.append(
            _Source(
                record.id, record.kind, record.start_frame, record.end_frame + 1, light, min_sigma
            )
        )

    @property
    def frames(self) -> int:
        return self.config.frames

    @property
    def n_chunks(self) -> int:
        return -(-self.frames // CHUNK_FRAMES)

    def timestamps(self) -> np.ndarray:
        """Unix time of the start of every frame, seconds."""
        return self.config.start_unix + np.arange(self.frames) * D3_S

    def chunks(self) -> Iterator[Chunk]:
        for k in range(self.n_chunks):
            yield self.chunk(k)

    def block(self, k: int) -> tuple[int, int]:
        """Frames [f0, f1) of noise block ``k``."""
        f0 = k * CHUNK_FRAMES
        return f0, min(self.frames, f0 + CHUNK_FRAMES)

    def expected(self, k: int) -> tuple[np.ndarray, list]:
        """Expected raw counts (T, 48, 48) of block ``k``, and each lit source's light
        (source, frame, row, col, counts before the pixel's efficiency)."""
        f0, f1 = self.block(k)
        expected = self.scene.background_per_gtu(np.arange(f0, f1)) * D3_GTUS
        lit = []
        for source in self._sources:
            if source.end <= f0 or source.first >= f1:
                continue
            coo = source.light(f0, f1)
            if coo is None:
                continue
            frame, row, col, counts = merge_coo(*coo)
            expected[frame - f0, row, col] += counts
            lit.append((source, frame, row, col, counts))
        return expected * self.detector.efficiency + self.detector.hot_rate, lit

    def detected_light(self, event_id: int) -> tuple[np.ndarray, ...]:
        """COO arrays ``frame, row, col, counts`` of event ``event_id``'s expected light over
        its whole span, as the pixels detect it (after their efficiency; none in dead
        pixels), one entry per lit pixel and frame; raw D3 counts."""
        source = next(s for s in self._sources if s.event_id == event_id)
        coo = source.light(source.first, source.end)
        if coo is None:
            return tuple(np.zeros(0, t) for t in (np.int64, np.int64, np.int64, float))
        frame, row, col, counts = merge_coo(*coo)
        return frame, row, col, counts * self.detector.efficiency[row, col]

    def chunk(self, k: int) -> Chunk:
        """Render noise block ``k``: Poisson counts around the expected light, and truth."""
        f0, f1 = self.block(k)
        expected, lit = self.expected(k)
        rng = np.random.default_rng(self._noise_seeds[k])
        counts = rng.poisson(expected).astype(np.uint32)
        efficiency, hot = self.detector.efficiency, self.detector.hot_rate
        parts = [
            _truth_part(s.event_id, s.min_sigma, f0, expected, fr, r, c, x * efficiency[r, c])
            for s, fr, r, c, x in lit
        ]
        frame = np.arange(f0, f1)
        for event in self._hot_events:
            r, c = (
                np.full(frame.size, event.start_row, int),
                np.full(frame.size, event.start_col, int),
            )
            parts.append(
                _truth_part(event.id, LIGHT_TRUTH_MIN_SIGMA, f0, expected, frame, r, c, hot[r, c])
            )
        return Chunk(f0, counts, Truth.concatenate(parts))

    def describe(self) -> dict:
        """Session metadata written to ``session.json``."""
        return {
            "seed": self.seed,
            "frames": self.frames,
            "duration_s": self.frames * D3_S,
            "units": "raw",
            "config": self.config.to_dict(),
            "conditions": self.conditions.to_dict(),
            "dead_pixels": self.detector.dead_pixels,
            "hot_pixels": self.detector.hot_pixels,
            "event_counts": self.event_counts(),
        }

    def event_counts(self) -> dict[str, int]:
        return {kind: sum(e.kind == kind for e in self.events) for kind in KIND_CODE}


def _truth_part(
    event_id: int, min_sigma: float | None, f0: int, expected: np.ndarray, frame, row, col, counts
) -> Truth:
    """Truth entries of one source in one block, without the negligible ones."""
    total = expected[frame - f0, row, col]
    if min_sigma is None:
        keep = counts >= TRANSIENT_TRUTH_MIN_COUNTS
    else:
        keep = (counts > 0) & (counts >= min_sigma * np.sqrt(total))
    return Truth(
        frame[keep].astype(np.int32),
        row[keep].astype(np.uint8),
        col[keep].astype(np.uint8),
        np.full(int(keep.sum()), event_id, np.int32),
        counts[keep].astype(np.float32),
        total[keep].astype(np.float32),
    )
