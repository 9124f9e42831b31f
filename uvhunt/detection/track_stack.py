"""The track stack: a meteor's light summed along its own track over several pixels, the
velocity-matched stage that per-pixel rules lack (docs/quantization.md, "A track stack").
The trigger core does not compute it. Its integer twin, ``track_stack_integer``, is what the
track stack trigger in hardware (``hls/stack_trigger.py``) computes, bit for bit.

For pixel ``p`` at frame ``t`` of a movie of raw D3 counts r:

    b(t, p) = r(t, p) − the mean of r over frames t−G−W … t−G−1 and t+G+1 … t+G+W
    x(t, p) = b / √(mean of b² over frames t−H … t+H), clipped to ±cap
    S_v(t, p) = Σ_k x(t−k, p − round(v·k)),  k = 0 … K−1
    Z(t, p) = max over v of (S_v(t) − max(S_v(t−D), S_v(t+D))) / √K

b is the pixel's bump against the frames around it (G frames left out either side, W taken);
x is the bump in units of its own recent spread (texture and Poisson together, as the peak
gate's shape statistic: a pixel that ground light crosses has a wide spread); S_v sums the
bumps along a straight track of velocity v (pixels per frame, ``speeds`` × ``directions``)
ending at (t, p); and Z keeps what the same pixels did not show D frames before or after,
which drops light that stays (an edge of a city, a broad ground bump) and keeps a meteor,
whose light passes each pixel in a few frames. t is the track's last frame; a decision about
it waits ``latency`` frames. Frames without every term defined, and excluded pixels, hold NaN.
"""

from dataclasses import asdict, dataclass

import numpy as np

from uvhunt.detection.conventional import running_sum
from uvhunt.euso.geometry import N_SIDE

CHUNK_FRAMES = 128
"""Track ends computed at a time by ``best_kept`` (their stacks' arrays stay in cache)."""


def centred_window(frames: int, half: int) -> tuple[np.ndarray, np.ndarray]:
    """Each frame's window t − half … t + half cut to the movie's ``frames``: (low, high),
    the first frame and one past the last, for differences of a running sum."""
    t = np.arange(frames)
    return np.clip(t - half, 0, frames), np.clip(t + half + 1, 0, frames)


@dataclass(frozen=True)
class TrackStackTrigger:
    frames: int = 11
    """K: frames summed along a track, D3 frames."""
    gap: int = 4
    """G: frames left out of the bump's baseline on either side, D3 frames."""
    width: int = 12
    """W: frames of the baseline on either side, D3 frames."""
    spread: int = 40
    """H: half the window of the bump's RMS, D3 frames."""
    recurrence: int = 10
    """D: frames before and after the track whose stack is subtracted (0: none)."""
    cap: float = 8.0
    """Largest |x| one pixel-frame adds, σ."""
    speeds: tuple[float, ...] = (0.1, 0.16, 0.25, 0.4)
    """Track speeds, pixels per D3 frame."""
    directions: int = 16
    """Track directions, evenly spaced from 0°."""

    def validate(self) -> "TrackStackTrigger":
        if not 2 <= self.frames <= 64:
            raise ValueError(f"the track stack sums 2…64 frames (got {self.frames})")
        if min(self.gap, self.recurrence) < 0 or min(self.width, self.spread) < 1:
            raise ValueError(
                "the track stack's gap and recurrence must be ≥ 0 and its width and spread "
                f"≥ 1 frame (got {self.gap}, {self.recurrence}, {self.width}, {self.spread})"
            )
        if not self.speeds or min(self.speeds) <= 0 or self.directions < 1:
            raise ValueError(
                "the track stack needs positive speeds and at least one direction "
                f"(got {self.speeds}, {self.directions})"
            )
        if not self.cap > 0:
            raise ValueError(f"the track stack's cap must be positive (got {self.cap})")
        return self

    def to_dict(self) -> dict:
        return {**asdict(self), "speeds": list(self.speeds)}

    @classmethod
    def from_dict(cls, data: dict) -> "TrackStackTrigger":
        """The stack of ``to_dict``'s form (a manifest's ``track_stack.trigger``)."""
        return cls(**{**data, "speeds": tuple(data["speeds"])})

    @property
    def margin(self) -> int:
        """Frames at either end of a movie without a bump x (its baseline incomplete)."""
        return self.gap + self.width

    @property
    def latency(self) -> int:
        """Frames after a track's last frame that its Z reads, D3 frames: D to the stack at
        t + D, H more to the last bump in that x's spread, G + W more to that bump's
        baseline (66 by default, as ``hls/stack_trigger.py`` waits)."""
        return self.recurrence + self.spread + self.margin

    def offsets(self) -> np.ndarray:
        """(velocities, K, 2) int: the pixel offsets (rows, columns) k frames back along each
        track, round(v·k) (halves away from zero)."""
        angle = 2 * np.pi * np.arange(self.directions) / self.directions
        velocity = np.array([(s * np.sin(a), s * np.cos(a)) for s in self.speeds for a in angle])
        step = velocity[:, None, :] * np.arange(self.frames)[None, :, None]
        return (np.sign(step) * np.floor(np.abs(step) + 0.5)).astype(np.int64)

    def threshold_from_sigma(self, z: float) -> float:
        """This stack's Z equal to the float stack's threshold ``z`` (σ, divided by √K): z."""
        return z

    def baseline(self, total: np.ndarray, first: int, stop: int) -> np.ndarray:
        """The sums over frames t − G − W … t − G − 1 and t + G + 1 … t + G + W, for t in
        first … stop − 1, from a running sum ``total`` (``running_sum``: its entry i sums the
        first i frames), in total's units and dtype."""
        g, w = self.gap, self.width
        t = np.arange(first, stop)
        return (total[t - g] - total[t - g - w]) + (total[t + g + w + 1] - total[t + g + 1])

    def bumps(self, raw: np.ndarray) -> np.ndarray:
        """x (float32, σ, clipped) for a movie (frames, 48, 48) of raw D3 counts; 0 in the
        ``margin`` frames at either end."""
        frames = len(raw)
        x = np.zeros(np.shape(raw), np.float32)
        first, stop = self.margin, frames - self.margin  # frames with a whole baseline
        if stop <= first:
            return x
        around = self.baseline(running_sum(raw), first, stop)
        bump = (np.asarray(raw[first:stop], np.float64) - around / (2 * self.width)).astype(
            np.float32
        )
        squares = running_sum(bump.astype(np.float64) ** 2)
        low, high = centred_window(len(bump), self.spread)
        mean = (squares[high] - squares[low]) / (high - low)[:, None, None]
        x[first:stop] = bump / np.sqrt(np.maximum(mean, 1.0)).astype(np.float32)
        np.clip(x, -self.cap, self.cap, out=x)
        return x

    def significance(self, raw: np.ndarray, excluded: np.ndarray | None = None) -> np.ndarray:
        """Z (float32, σ) for every frame and pixel of a movie (frames, 48, 48) of raw D3
        counts, at each track's last frame; NaN where a term is undefined and at the
        ``excluded`` pixels (48, 48), which add nothing to any track."""
        z = self.stacked(raw, excluded, np.nan, np.float32)
        z /= np.float32(np.sqrt(self.frames))
        return z

    def stacked(self, raw: np.ndarray, excluded: np.ndarray | None, empty, dtype) -> np.ndarray:
        """``best_kept`` of the movie's bumps (``bumps``, 0 at the ``excluded`` pixels), as
        ``dtype``; ``empty`` where a term is undefined and at the excluded pixels."""
        frames, k, d = len(raw), self.frames, self.recurrence
        first = self.margin + k - 1 + d  # every x of S_v(t − D) defined
        last = frames - 1 - self.margin - d  # … and of S_v(t + D)
        if last < first:  # too short for any track (fewer frames than K among them)
            return np.full(np.shape(raw), empty, dtype)
        x = self.bumps(raw)
        if excluded is not None:
            x[:, excluded] = 0
        z = self.best_kept(x).astype(dtype, copy=False)
        z[:first] = empty
        z[last + 1 :] = empty
        if excluded is not None:
            z[:, excluded] = empty
        return z

    def best_kept(self, x: np.ndarray, chunk_frames: int = CHUNK_FRAMES) -> np.ndarray:
        """max over v of S_v(t) − max(S_v(t − D), S_v(t + D)) (D = 0: S_v(t)) for bumps ``x``
        (frames, 48, 48), in x's dtype and units, at each track's last frame t; frames where
        a stack is incomplete hold x's dtype's lowest value (−inf for floats). Computed
        ``chunk_frames`` track ends at a time (the same values, in cache-sized pieces), on
        int16 when x is integer and the difference of two stacks fits in it."""
        frames, k, d = len(x), self.frames, self.recurrence
        lowest = -np.inf if np.issubdtype(x.dtype, np.floating) else np.iinfo(x.dtype).min
        z = np.full(x.shape, lowest, x.dtype)
        work = x
        widest = max(-int(x.min(initial=0)), int(x.max(initial=0)))  # no abs: x may hold INT_MIN
        if np.issubdtype(x.dtype, np.integer) and 2 * k * widest < 2**15:
            work = x.astype(np.int16)  # every S_v and every difference of two fits
        reach = k - 1 + d  # frames before a track's last frame that its Z reads
        for start in range(reach, frames - d, chunk_frames):
            stop = min(frames - d, start + chunk_frames)
            z[start:stop] = self._best_kept_span(work[start - reach : stop + d])
        return z

    def _best_kept_span(self, x: np.ndarray) -> np.ndarray:
        """``best_kept`` at the track ends K − 1 + D … len(x) − 1 − D of bumps ``x``, the
        only ones whose stacks lie within it."""
        frames, k, d = len(x), self.frames, self.recurrence
        offsets = self.offsets()
        pad = int(np.abs(offsets).max())
        padded = np.zeros((frames, N_SIDE + 2 * pad, N_SIDE + 2 * pad), x.dtype)
        padded[:, pad : pad + N_SIDE, pad : pad + N_SIDE] = x
        stack = np.empty((frames - k + 1, N_SIDE, N_SIDE), x.dtype)  # S_v(t) at t − k + 1
        best = None
        for track in offsets:
            stack[:] = 0
            for back, (dr, dc) in enumerate(track):
                rows = slice(pad - dr, pad - dr + N_SIDE)
                cols = slice(pad - dc, pad - dc + N_SIDE)
                stack += padded[k - 1 - back : frames - back, rows, cols]
            kept = stack[d:-d] - np.maximum(stack[: -2 * d], stack[2 * d :]) if d else stack
            best = kept.copy() if best is None else np.maximum(best, kept, out=best)
        return best
