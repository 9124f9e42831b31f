"""Integer input preprocessing: what the firmware does to a pixel's window before the network.

From one pixel's window of ``length`` D3 values (48), by default (``history_bits`` = 12, the
form a streaming trigger stores cheaply: 12 bits per pixel and frame):

1. ``raw``: integer raw D3 counts — values in counts per GTU are multiplied by 16,384 and
   rounded to the nearest integer, so raw and per-GTU data give the same integers.
2. ``r = min(raw >> shift, 2**history_bits - 1)``: shifted first (floor), in units of
   2**shift raw counts, and clipped to what a streaming trigger stores per pixel and frame
   (12 bits: up to 131,040 raw counts, 8 counts per GTU, above the brightest moonlit
   background, 3.4 counts per GTU); brighter light (city lights, lightning) is held at the
   top.
3. ``d = r - r_last``: each frame's difference from the window's newest frame, exact.
4. ``baseline = floor(sum(d) / length)``: the window's mean, rounded down (in firmware a
   constant multiply and shift, exact for the value range).
5. ``q = d - baseline`` saturated to the signed range of ``bits`` bits:
   [-2**(bits-1), 2**(bits-1) - 1].

An earlier form wrapped the differences instead of clipping the samples (``r mod 2**bits``):
brighter lights moving across a pixel then made bumps like meteors (at 12 bits the float
model's window efficiency at 10^-3 false positives fell from 0.26 to 0.08). ``history_bits``
= 0 is the form before that, which needs the raw history (22 bits per sample):
``q = clip(floor((raw - floor(sum(raw) / length)) / 2**shift))`` (baseline first, then the
shift). ``q`` are the network's integer inputs (scale 1). All steps are integer arithmetic.

With ``peak_input``, the network gets one input more, after the window's: ``⌊S/5⌋``, S the
largest sum of 5 consecutive ``q`` (``five_frame_peak``; the peak-gated trigger's S). It lies
in ``q``'s own range, so it needs no saturation. A small ReLU network cannot form a maximum
over its window; as an input, the peak's height lifts the QAT MLP's nine-fold AUC by 0.017
(docs/quantization.md, "The window AUC: the peak's height as an input").
"""

from dataclasses import asdict, dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from uvhunt.euso.geometry import N_SIDE
from uvhunt.euso.timing import D3_GTUS
from uvhunt.euso.units import PER_GTU, check_units

MAX_RAW = D3_GTUS * 255
"""Largest possible raw D3 value: 16,384 GTUs of at most 255 counts (uint8 D1)."""
PEAK_FRAMES = 5
"""Frames of the moving sum whose largest value is the peak input (and the peak gate's S)."""


@dataclass(frozen=True)
class Preprocessing:
    """Integer preprocessing of a window (see the module docstring)."""

    shift: int = 5
    """Right shift of the baseline-subtracted counts (divide by 2**shift, rounding down)."""
    bits: int = 8
    """Width of the saturated signed integer fed to the network, bits."""
    history_bits: int = 12
    """Bits kept per pixel and frame of the shifted history (samples clipped to
    ``2**history_bits - 1``); 0: the earlier form, baseline of the raw counts before the
    shift."""
    peak_input: bool = False
    """Append ``⌊S/5⌋`` (S: ``five_frame_peak`` of the window's codes) as the network's last
    input."""

    def inputs(self, length: int) -> int:
        """Network inputs for windows of ``length`` frames."""
        return length + int(self.peak_input)

    def validate(self) -> "Preprocessing":
        if not 0 <= self.shift <= 24:
            raise ValueError(f"preprocessing shift must be 0…24 bits (got {self.shift})")
        if not 2 <= self.bits <= 16:
            raise ValueError(f"input bits must be 2…16 (got {self.bits})")
        if self.history_bits and not self.bits <= self.history_bits <= 24:
            raise ValueError(f"history bits must be 0 or {self.bits}…24 (got {self.history_bits})")
        return self

    @property
    def low(self) -> int:
        return -(2 ** (self.bits - 1))

    @property
    def high(self) -> int:
        return 2 ** (self.bits - 1) - 1

    def to_dict(self) -> dict:
        return asdict(self)

    def __call__(self, windows: np.ndarray, units: str) -> np.ndarray:
        """Integer network inputs (N, ``inputs(length)``) int32 from windows (N, length) in
        ``units``."""
        return self.network_inputs(self.codes(raw_counts(windows, units)))

    def network_inputs(self, q: np.ndarray) -> np.ndarray:
        """The network's integer inputs (..., ``inputs(length)``) int32 from a window's codes
        ``q`` (..., length): ``q``, then ``⌊S/5⌋`` with ``peak_input``."""
        return append_peak(q) if self.peak_input else q

    def codes(self, raw: np.ndarray) -> np.ndarray:
        """Integer network inputs (..., length) int32 from integer raw counts (..., length)
        (at most 22 bits, as ``raw_counts`` gives): the definition above, on any number of
        leading axes."""
        raw = np.asarray(raw)
        if not self.history_bits:
            raw = raw.astype(np.int64)
            baseline = raw.sum(axis=-1, keepdims=True) // raw.shape[-1]
            q = (raw - baseline) >> self.shift
            return np.clip(q, self.low, self.high).astype(np.int32)
        # d_i - floor(sum(d) / L) with d_i = r_i - r_last is r_i - floor(sum(r) / L) exactly
        r = self._samples(raw)
        q = r - r.sum(axis=-1, keepdims=True, dtype=np.int32) // raw.shape[-1]
        return np.clip(q, self.low, self.high, out=q)

    def series_codes(self, series: np.ndarray, length: int) -> np.ndarray:
        """Integer network inputs (..., frames - length + 1, length) int32 of every full
        window of ``series`` (..., frames) of integer raw counts: the same integers as
        ``codes(sliding_window_view(series, length, axis=-1))``, with the per-sample steps
        done once per frame and the window sums as running sums (5× faster on a movie)."""
        series = np.asarray(series)
        if not self.history_bits:
            return self.codes(sliding_window_view(series, length, axis=-1))
        r = self._samples(series)
        q = sliding_window_view(r, length, axis=-1) - _baselines(r, length)[..., None]
        return np.clip(q, self.low, self.high, out=q)

    def series_inputs(self, series: np.ndarray, length: int) -> np.ndarray:
        """Network inputs (..., frames - length + 1, ``inputs(length)``) int32 of every full
        window of ``series`` (..., frames) of integer raw counts: the same integers as
        ``network_inputs(series_codes(series, length))``, written into one array. Where no
        code of a window saturates, its codes are its samples less its baseline, so its peak
        is the series' largest five-frame sum in the window less 5 × baseline: running sums
        and maxima of the series, not a sum over every window's codes (2.4× faster on a session);
        the few windows that saturate are clipped and summed on their own."""
        series = np.asarray(series)
        if not (self.peak_input and self.history_bits) or series.shape[-1] < length:
            return self.network_inputs(self.series_codes(series, length))
        r, baseline, saturated = self.series_windows(series, length)
        out = np.empty((*baseline.shape, length + 1), np.int32)
        q = out[..., :length]
        np.subtract(sliding_window_view(r, length, axis=-1), baseline[..., None], out=q)
        peak = sliding_max(five_frame_sums(r), length - PEAK_FRAMES + 1)
        peak -= PEAK_FRAMES * baseline
        if saturated.any():  # only these windows' codes need clipping
            codes = np.clip(q[saturated], self.low, self.high)
            q[saturated] = codes
            peak[saturated] = five_frame_sums(codes).max(axis=-1)
        np.floor_divide(peak, PEAK_FRAMES, out=out[..., length])
        return out

    def series_windows(
        self, series: np.ndarray, length: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For every full window of ``series`` (..., frames) of integer raw counts (history
        form): the shifted samples r (..., frames) int32 (step 2), each window's baseline
        (..., windows) int32, and whether any of its codes saturates (..., windows) bool.
        Where none does, the window's codes are exactly its samples less its baseline."""
        if not self.history_bits:
            raise ValueError("series_windows is for the history form (history_bits > 0)")
        r = self._samples(np.asarray(series))
        baseline = _baselines(r, length)
        saturated = sliding_max(r, length) - baseline > self.high
        saturated |= sliding_max(-r, length) + baseline > -self.low
        return r, baseline, saturated

    def _samples(self, raw: np.ndarray) -> np.ndarray:
        """Step 2: the shifted samples clipped to ``history_bits`` (int32)."""
        return np.minimum(raw.astype(np.int32) >> self.shift, (1 << self.history_bits) - 1)


def append_peak(q: np.ndarray) -> np.ndarray:
    """Codes ``q`` (..., length) with ``⌊S/5⌋`` appended (..., length + 1), int32: the inputs
    of a network with the peak input."""
    peak = five_frame_sums(q).max(axis=-1).astype(np.int64)
    return np.concatenate([q, (peak // PEAK_FRAMES).astype(np.int32)[..., None]], axis=-1)


def five_frame_peak(q: np.ndarray, dtype=None) -> tuple[np.ndarray, np.ndarray]:
    """The largest sum of ``PEAK_FRAMES`` consecutive values of integer windows ``q`` (...,
    length) (int64), and the first frame of the first such sum (the first, on ties). Summed
    in ``dtype`` if the caller knows no sum leaves it, else in int32 where none can (8-bit
    codes: 5× less time than in int64 on a movie)."""
    sums = five_frame_sums(q, dtype)
    return sums.max(axis=-1).astype(np.int64), np.argmax(sums, axis=-1)


def five_frame_sums(q: np.ndarray, dtype=None) -> np.ndarray:
    """Every sum of ``PEAK_FRAMES`` consecutive values of integer windows ``q`` (..., length):
    (..., length - 4), in ``dtype`` (see ``five_frame_peak``). The windows are summed as one
    flat run of values (sums that straddle two windows are computed and dropped): long
    contiguous additions instead of one short row per window, 3× faster on a movie. Written
    for ``PEAK_FRAMES`` = 5 (two pairs and one more), as the RTL's ``rtl_trace.peak_of`` is."""
    q = np.asarray(q)
    if q.shape[-1] < PEAK_FRAMES:
        raise ValueError(f"windows of {q.shape[-1]} values hold no {PEAK_FRAMES}-value sum")
    if dtype is None:
        largest = max(abs(int(q.min())), abs(int(q.max()))) if q.size else 0
        dtype = np.int32 if PEAK_FRAMES * largest < 2**31 else np.int64
    flat = np.ascontiguousarray(q, dtype).reshape(-1)
    sums = np.zeros(flat.size, dtype)
    if flat.size:  # x[i] + … + x[i + 4] as (x[i] + x[i+1]) + (x[i+2] + x[i+3]) + x[i + 4]
        pairs = flat[:-1] + flat[1:]
        span = flat.size - 4
        np.add(pairs[:span], pairs[2 : span + 2], out=sums[:span])
        sums[:span] += flat[4:]
    return sums.reshape(q.shape)[..., : q.shape[-1] - 4]


def raw_counts(windows: np.ndarray, units: str) -> np.ndarray:
    """Windows as integer raw D3 counts (int64), clipped to the instrument's range."""
    windows = np.asarray(windows)
    if np.issubdtype(windows.dtype, np.integer) and check_units(units) != PER_GTU:
        # integer raw counts (session movies): the same result without a float copy
        counts = windows.astype(np.int64)
        np.minimum(counts, MAX_RAW, out=counts)
        return np.maximum(counts, 0, out=counts)
    values = np.asarray(windows, dtype=np.float64)
    if check_units(units) == PER_GTU:
        values = values * D3_GTUS
    return np.clip(np.rint(values), 0, MAX_RAW).astype(np.int64)


READ_FRAMES = 64
"""Frames ``movie_raw_counts`` reads and converts at a time."""


def movie_raw_counts(movie, start: int = 0, stop: int | None = None) -> np.ndarray:
    """Frames [start, stop) of ``movie`` (``euso.readers.Movie``; ``stop``: its end) as
    integer raw D3 counts (frames, 48, 48) int64: ``raw_counts(movie.read(start, stop),
    movie.units)``, read ``READ_FRAMES`` at a time into the result. The same integers without
    the whole movie's float32 and float64 copies: a session of 4,096 frames in 0.06 s instead
    of 0.6 s (the large temporaries' first touch was most of it)."""
    stop = movie.frames if stop is None else stop
    out = np.empty((stop - start, N_SIDE, N_SIDE), np.int64)
    for at in range(start, stop, READ_FRAMES):
        end = min(at + READ_FRAMES, stop)
        out[at - start : end - start] = raw_counts(movie.read(at, end), movie.units)
    return out


def movie_series(movie) -> np.ndarray:
    """A whole movie's raw counts as one series per pixel: (pixels, frames) int64,
    C-contiguous (``movie_raw_counts``, transposed block by block)."""
    out = np.empty((N_SIDE * N_SIDE, movie.frames), np.int64)
    for at in range(0, movie.frames, READ_FRAMES):
        end = min(at + READ_FRAMES, movie.frames)
        out[:, at:end] = movie_raw_counts(movie, at, end).reshape(end - at, -1).T
    return out


def float_inputs(
    windows: np.ndarray,
    units: str,
    preprocessing: Preprocessing,
    integer: np.ndarray | None = None,
) -> np.ndarray:
    """The float model's inputs (N, ``inputs(length)``) float32: ``float_residual``, then
    (with ``peak_input``) the integer model's own peak input ``⌊S/5⌋``, an integer already,
    so both models learn the same one; taken from ``integer``, the integer inputs
    (``preprocessing(windows, units)``), when the caller has them."""
    residual = float_residual(windows, units, preprocessing)
    if not preprocessing.peak_input:
        return residual
    if integer is None:
        integer = preprocessing(windows, units)
    return np.concatenate([residual, integer[:, -1:].astype(np.float32)], axis=1)


def float_residual(windows: np.ndarray, units: str, preprocessing: Preprocessing) -> np.ndarray:
    """The float model's input, the unquantized twin of ``Preprocessing.__call__``: the
    residual from the window's exact mean in units of 2**shift raw counts, saturated to the
    same range but not rounded (float32). With ``history_bits``, the samples are clipped as
    the integer ones are, so both models learn the same inputs."""
    raw = _float_samples(raw_counts(windows, units), preprocessing)
    residual = raw - raw.mean(axis=1, keepdims=True)
    return np.clip(residual, preprocessing.low, preprocessing.high).astype(np.float32)


def float_series_residual(
    series: np.ndarray, length: int, preprocessing: Preprocessing
) -> np.ndarray:
    """``float_residual`` of every full window of ``series`` (pixels, frames) of integer raw
    counts (as ``raw_counts`` gives), as (pixels × (frames - length + 1), length) float32,
    window by window of each pixel: the same numbers, with the per-sample steps done once per
    frame and the window means from running sums (exact: the samples are integers over
    2**shift below 2**22, so float64 sums of fewer than 2**31 frames are exact, and each mean
    is the same quotient as ``mean``'s)."""
    raw = _float_samples(np.asarray(series), preprocessing)
    residual = (
        sliding_window_view(raw, length, axis=-1) - (window_sums(raw, length) / length)[..., None]
    )
    np.clip(residual, preprocessing.low, preprocessing.high, out=residual)
    return residual.astype(np.float32).reshape(-1, length)


def sliding_max(values: np.ndarray, length: int) -> np.ndarray:
    """The largest of every ``length`` consecutive values along the last axis of ``values``:
    (..., size - length + 1), from maxima of doubling spans (log2(length) passes)."""
    span, best = 1, values
    while 2 * span <= length:
        best = np.maximum(best[..., :-span], best[..., span:])
        span *= 2
    count = values.shape[-1] - length + 1
    return np.maximum(best[..., :count], best[..., length - span : length - span + count])


def _baselines(samples: np.ndarray, length: int) -> np.ndarray:
    """Step 4 for every full window of integer samples (..., frames): ⌊Σr / L⌋ (..., windows)
    int32 (the same as ⌊Σd / L⌋ + r_last, with d = r - r_last)."""
    return (window_sums(samples.astype(np.int64), length) // length).astype(np.int32)


def window_sums(values: np.ndarray, length: int) -> np.ndarray:
    """The sum of every full window of ``length`` along the last axis of ``values``, as
    differences of running sums: (..., frames - length + 1), in ``values``' dtype."""
    running = np.cumsum(values, axis=-1)
    sums = running[..., length - 1 :].copy()
    sums[..., 1:] -= running[..., :-length]
    return sums


def _float_samples(raw: np.ndarray, preprocessing: Preprocessing) -> np.ndarray:
    """Integer raw counts in units of 2**shift (float64), clipped as the integer history."""
    samples = raw.astype(np.float64) / 2.0**preprocessing.shift
    if preprocessing.history_bits:
        np.minimum(samples, 2.0**preprocessing.history_bits - 1, out=samples)
    return samples
