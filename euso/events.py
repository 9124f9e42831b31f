"""The event list of a session: one row per light source (meteor, confuser or ground light)."""

from dataclasses import asdict, dataclass

from uvhunt.euso.geometry import focal_to_pixel

KINDS = ("meteor", "lightning", "elve", "city", "ship", "hot_pixel")
"""Event classes, in the order of their integer codes (meteor = 0)."""
KIND_CODE = {kind: code for code, kind in enumerate(KINDS)}
NO_KIND = -1


@dataclass
class EventRecord:
    """One event. Frames are D3 frame indices (inclusive); positions are float pixel indices."""

    id: int
    kind: str
    start_frame: int
    end_frame: int
    start_row: float
    start_col: float
    end_row: float
    end_col: float
    magnitude: float = float("nan")
    """Absolute magnitude (meteors only)."""
    duration_frames: float = float("nan")
    """Duration of the light curve, D3 frames (meteors only; continuous, not rounded)."""
    speed_px_per_frame: float = float("nan")
    """Apparent speed on the focal surface, pixel pitches per D3 frame."""
    direction_deg: float = float("nan")
    """Direction of motion, degrees from the +column axis towards +row."""
    peak_flux_per_gtu: float = float("nan")
    """Peak light of the source, counts per GTU: all its pixels together for spots (meteors,
    lightning, cities, ships); per pixel for ELVES (the ring's crest) and hot pixels."""
    peak_pixel_counts: float = float("nan")
    """Brightest expected light in one pixel and frame, raw D3 counts (after efficiency)."""

    @property
    def in_view(self) -> bool:
        """Whether the event put light into some pixel. One drawn outside the field of view,
        or whose light falls only on PMT gaps and dead pixels, has ``peak_pixel_counts`` 0:
        no trigger can see it. Unknown (NaN, e.g. not simulated here) counts as in view."""
        return not self.peak_pixel_counts <= 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def seen(
        cls, event_id: int, kind: str, first: int, last: int, start_focal, end_focal, **details
    ) -> "EventRecord":
        """An event lit from frame ``first`` to ``last``, moving from focal position
        ``start_focal`` (u, v) to ``end_focal``; positions are stored as pixel indices."""
        (u0, v0), (u1, v1) = start_focal, end_focal
        return cls(
            id=event_id,
            kind=kind,
            start_frame=first,
            end_frame=last,
            start_row=float(focal_to_pixel(u0)),
            start_col=float(focal_to_pixel(v0)),
            end_row=float(focal_to_pixel(u1)),
            end_col=float(focal_to_pixel(v1)),
            **details,
        )
