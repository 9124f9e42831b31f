import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import uniform_filter1d

from tests.raw_series import nasty_series
from uvhunt.quant.config import ModelConfig
from uvhunt.quant.features import five_features
from uvhunt.quant.preprocess import (
    MAX_RAW,
    Preprocessing,
    append_peak,
    five_frame_peak,
    five_frame_sums,
    float_residual,
    float_series_residual,
    raw_counts,
)


def test_raw_and_per_gtu_data_give_the_same_integers():
    rng = np.random.default_rng(0)
    raw = rng.poisson(16384.0, (2000, 48)).astype(np.float32)
    raw[:10, 20] += rng.integers(0, 3_000_000, 10)  # lightning-like outliers
    per_gtu = raw / np.float32(16384)
    p = Preprocessing()
    np.testing.assert_array_equal(p(raw, "raw"), p(per_gtu, "per_gtu"))
    np.testing.assert_array_equal(
        float_residual(raw, "raw", p), float_residual(per_gtu, "per_gtu", p)
    )


def test_integer_steps_follow_the_definition():
    """The default form: shift first, samples clipped to 12 bits, differences from the newest
    frame, the floor of their mean as the baseline, saturation."""
    p = Preprocessing(shift=5, bits=8, history_bits=12)

    def q_of(changes: dict[int, float]) -> np.ndarray:
        window = np.full((1, 48), 16_000.0)  # r = 16,000 >> 5 = 500 everywhere
        for i, value in changes.items():
            window[0, i] = value
        return p(window, "raw")[0]

    q = q_of({0: 16_000 + 32 * 47 + 31})  # r0 = 547: d0 = 47, sum 47, baseline floor = 0
    assert q[0] == 47 and np.all(q[1:] == 0)
    q = q_of({0: 16_000 - 1})  # r0 = 499: d0 = -1, baseline floor(-1/48) = -1
    assert q[0] == 0 and np.all(q[1:] == 1)
    q = q_of({3: 16_000 + 32 * 200})  # d3 = 200, baseline 4: saturates at 127
    assert q[3] == 127 and np.all(np.delete(q, 3) == -4)
    q = q_of({47: 16_000 + 32 * 200})  # the newest frame bright: the others' d = -200,
    assert q[47] == 127 and np.all(q[:47] == -4)  # baseline floor(-9400/48) = -196
    q = q_of({3: 16_000 + 32 * 4000})  # r3 = 4,500 is clipped to 4,095: d3 = 3,595,
    assert q[3] == 127 and np.all(np.delete(q, 3) == -74)  # baseline floor(3595/48) = 74
    q = q_of({i: 200_000.0 for i in range(24, 48)})  # a light beyond the clip enters:
    assert np.all(q[:24] == -128) and np.all(q[24:] == 127)  # a clean saturated step
    q = q_of({5: 0.0, 9: float(MAX_RAW)})  # extremes: 0 and the largest raw value
    assert q.dtype == np.int32 and q.min() >= -128 and q.max() <= 127


def test_the_cheap_form_is_the_shift_first_mean_below_the_clip():
    rng = np.random.default_rng(3)
    raw = rng.poisson(16384.0, (5000, 48)).astype(np.int64)
    raw[:500] += rng.integers(0, 100_000, (500, 48))  # large but below 4,096 << 5
    p = Preprocessing(shift=5, bits=8, history_bits=12)
    r = raw >> 5
    expected = np.clip(r - r.sum(axis=1, keepdims=True) // 48, -128, 127)
    np.testing.assert_array_equal(p(raw.astype(np.float64), "raw"), expected)
    # and any leading axes give the same integers as one window at a time
    np.testing.assert_array_equal(p.codes(raw.reshape(50, 100, 48)).reshape(5000, 48), expected)
    # above the clip, the samples are held at 4,095
    bright = raw + 200_000
    np.testing.assert_array_equal(p.codes(bright), np.zeros_like(expected))


def test_the_raw_history_form_follows_its_definition():
    p = Preprocessing(shift=5, bits=8, history_bits=0)
    window = np.full((1, 48), 16_000.0)
    window[0, 0] = 16_000.0 + 48 * 31  # sum rises by 48·31: baseline rises by 31 exactly
    q = p(window, "raw")
    # residuals: 48·31 − 31 = 1457 → 1457 >> 5 = 45; the others −31 >> 5 = −1 (floor)
    assert q[0, 0] == 45 and np.all(q[0, 1:] == -1)
    bright = np.full((1, 48), 16_000.0)
    bright[0, 3] = 4_000_000.0
    q = p(bright, "raw")
    assert q[0, 3] == 127 and q.min() == -128  # saturated both ways
    floor = np.array([[10.0] * 47 + [10.0 + 47]])  # baseline floor((480+47)/48) = 10
    assert p(floor, "raw")[0, -1] == 47 >> 5


def test_configs_from_before_history_bits_keep_their_form():
    data = ModelConfig().to_dict()
    del data["preprocessing"]["history_bits"]
    assert ModelConfig.from_dict(data).preprocessing.history_bits == 0
    assert ModelConfig.from_dict(ModelConfig().to_dict()) == ModelConfig()


def test_raw_counts_round_and_clip():
    values = np.array([[-3.0, 0.4, 0.6, 1e12]])
    np.testing.assert_array_equal(raw_counts(values, "raw"), [[0, 0, 1, MAX_RAW]])


@pytest.mark.parametrize("dtype", [np.uint32, np.int64, np.uint16, np.int32])
def test_integer_raw_counts_take_the_fast_path_to_the_same_integers(dtype):
    info = np.iinfo(dtype)
    rng = np.random.default_rng(1)
    values = rng.integers(info.min, info.max, (500, 48), dtype=dtype, endpoint=True)
    values[0, :4] = [info.min, info.max, 0, min(MAX_RAW, info.max)]
    got = raw_counts(values, "raw")
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, raw_counts(values.astype(np.float64), "raw"))


@pytest.mark.parametrize(
    "bad",
    [
        dict(hidden=()),
        dict(hidden=(0, 4)),
        dict(weight_bits=1),
        dict(activation_bits=20),
        dict(bias_bits=2),
        dict(length=1),
        dict(weight_bits=16, activation_bits=16),
    ],
)
def test_invalid_model_configs_are_refused(bad):
    with pytest.raises(ValueError):
        ModelConfig(**bad).validate()


def test_preprocessing_is_validated():
    for bad in (
        Preprocessing(shift=-1),
        Preprocessing(bits=1),
        Preprocessing(bits=17),
        Preprocessing(history_bits=7),
    ):
        with pytest.raises(ValueError):
            bad.validate()


def test_five_features_find_two_peaks():
    t = np.arange(48)
    curve = 100 * np.exp(-0.5 * ((t - 10) / 2) ** 2) + 60 * np.exp(-0.5 * ((t - 35) / 2) ** 2)
    f = five_features(curve[None, :])[0]
    assert f[1] == 10 and f[3] == 35
    assert 60 < f[0] < 100 and 36 < f[2] < 60 and f[0] > f[2]
    assert f[4] == pytest.approx(curve.var(), rel=1e-6)


def test_five_features_equal_their_definition_on_ties_flat_curves_and_edge_peaks():
    rng = np.random.default_rng(5)
    curves = [
        (rng.integers(-8, 9, (2000, 48)) / 4).astype(np.float32),  # many tied maxima
        np.zeros((3, 48), np.float32),  # flat: both peaks at the first allowed frame
        np.full((2, 48), -3.25, np.float32),
        np.eye(48, dtype=np.float32)[[0, 5, 6, 41, 42, 47]] * 100,  # a spike at each edge
        rng.normal(0, 30, (500, 48)).astype(np.float32),
    ]
    for residual in curves:
        smooth = uniform_filter1d(residual.astype(np.float64), 5, axis=1, mode="nearest")
        first = np.argmax(smooth, axis=1)
        frames = np.arange(48)
        masked = np.where(np.abs(frames - first[:, None]) <= 5, -np.inf, smooth)
        second = np.argmax(masked, axis=1)
        rows = np.arange(len(residual))
        definition = np.stack(
            [smooth[rows, first], first, masked[rows, second], second, residual.var(axis=1)],
            axis=1,
        ).astype(np.float32)
        np.testing.assert_array_equal(five_features(residual), definition)


def _by_the_steps(p: Preprocessing, raw: np.ndarray) -> np.ndarray:
    """The module docstring's steps one by one (history form): clip, differences from the
    newest frame, floor of their mean, saturation."""
    r = np.minimum(raw.astype(np.int64) >> p.shift, 2**p.history_bits - 1)
    d = r - r[..., -1:]
    d = d - np.floor_divide(d.sum(axis=-1, keepdims=True), raw.shape[-1])
    return np.clip(d, p.low, p.high)


@pytest.mark.parametrize(
    "p",
    [Preprocessing(), Preprocessing(3, 6, 10), Preprocessing(0, 16, 16), Preprocessing(5, 8, 0)],
    ids=["default", "narrow", "no-shift", "raw-history"],
)
def test_series_codes_equal_every_window_coded_alone(p):
    """A whole series coded at once (running sums, per-sample steps once per frame) gives
    every window's integers, on nasty series: zeros, the largest raw value, samples beyond
    the history clip, values just below a shift step, full-range noise."""
    series = nasty_series(7, 400, 150).astype(np.int32)
    windows = sliding_window_view(series, 48, axis=1)
    got = p.series_codes(series, 48)
    assert got.shape == (400, 103, 48) and got.dtype == np.int32
    np.testing.assert_array_equal(got, p.codes(windows))
    if p.history_bits:
        np.testing.assert_array_equal(got, _by_the_steps(p, windows))
    np.testing.assert_array_equal(
        p.series_codes(series[:3, :48], 48), p.codes(series[:3, None, :48])
    )


@pytest.mark.parametrize(
    "p",
    [
        Preprocessing(peak_input=True),
        Preprocessing(3, 6, 10, peak_input=True),
        Preprocessing(0, 16, 16, peak_input=True),
        Preprocessing(5, 8, 0, peak_input=True),
        Preprocessing(),
    ],
    ids=["default-peak", "narrow-peak", "no-shift-peak", "raw-history-peak", "no-peak"],
)
@pytest.mark.parametrize("length", [48, 5, 6, 17])
def test_series_inputs_equal_every_window_coded_then_peaked(p, length):
    """A whole series' network inputs at once (the peak from the series' running sums where
    no code saturates) are each window's codes with its own peak appended, on nasty series
    whose windows saturate above and below and do not."""
    series = nasty_series(9, 400, 120).astype(np.int32)
    windows = sliding_window_view(series, length, axis=1)
    codes = p.codes(windows)
    got = p.series_inputs(series, length)
    assert got.shape == (400, 121 - length, p.inputs(length)) and got.dtype == np.int32
    np.testing.assert_array_equal(got, p.network_inputs(codes))
    if p.peak_input:
        np.testing.assert_array_equal(got, append_peak(codes))
        saturated = ((codes == p.low) | (codes == p.high)).any(axis=-1)
        assert saturated.any() and not saturated.all()  # both ways of finding the peak
    for shorter in (p.series_codes, p.series_inputs):  # no full window: refused alike
        with pytest.raises(ValueError, match="window shape"):
            shorter(series[:3, : length - 1], length)


@pytest.mark.parametrize(
    "p",
    [Preprocessing(), Preprocessing(3, 6, 10), Preprocessing(0, 16, 16), Preprocessing(5, 8, 0)],
    ids=["default", "narrow", "no-shift", "raw-history"],
)
def test_float_series_residual_equals_every_window_alone(p):
    """Running sums give the float model's inputs bit for bit: the same float32 numbers as
    each window's own mean, on nasty series."""
    series = nasty_series(8, 300, 500)
    windows = sliding_window_view(series, 48, axis=1).reshape(-1, 48)
    got = float_series_residual(series, 48, p)
    assert got.dtype == np.float32 and got.shape == (300 * 453, 48)
    np.testing.assert_array_equal(got, float_residual(windows, "raw", p))


@pytest.mark.parametrize("frames", [1, 63, 64, 65, 200])
@pytest.mark.parametrize("units", ["raw", "per_gtu"])
def test_a_movie_read_in_blocks_gives_the_integers_of_one_whole_read(tmp_path, frames, units):
    from uvhunt.euso.readers import open_movie
    from uvhunt.quant.preprocess import READ_FRAMES, movie_raw_counts, movie_series

    assert READ_FRAMES == 64  # the frame counts above straddle its blocks
    rng = np.random.default_rng(frames)
    values = rng.uniform(0, 1.2 * MAX_RAW, (frames, 48, 48))
    values.flat[:6] = [0.0, 0.5, 1.5, 2.5, MAX_RAW, 10.0 * MAX_RAW]  # ties, the top, beyond
    if units == "per_gtu":
        values /= 128.0
    np.save(tmp_path / "movie.npy", values.astype(np.float32))
    movie = open_movie(tmp_path / "movie.npy", units)
    whole = raw_counts(movie.read(0, frames), units)
    got = movie_raw_counts(movie)
    assert got.dtype == np.int64 and got.shape == (frames, 48, 48)
    np.testing.assert_array_equal(got, whole)
    third = frames // 3
    np.testing.assert_array_equal(movie_raw_counts(movie, third, frames), whole[third:])
    series = movie_series(movie)
    assert series.flags["C_CONTIGUOUS"] and series.dtype == np.int64
    np.testing.assert_array_equal(series, whole.reshape(frames, -1).T)


def naive_five_frame_sums(q: np.ndarray) -> np.ndarray:
    """Each window's 5-frame sums one window and one sum at a time, in Python integers."""
    rows = q.reshape(-1, q.shape[-1]).tolist()
    sums = [[sum(row[i : i + 5]) for i in range(len(row) - 4)] for row in rows]
    return np.array(sums, dtype=object).reshape(*q.shape[:-1], q.shape[-1] - 4)


@pytest.mark.parametrize(
    "q",
    [
        np.random.default_rng(0).integers(-128, 128, (7, 11, 48)),  # 8-bit codes
        np.full((3, 48), 127),  # ties everywhere, the top code
        np.full((3, 48), -128),  # the bottom code
        np.tile([-128, 127], (4, 24)),  # alternating extremes
        np.random.default_rng(1).integers(-(2**15), 2**15, (5, 48)),  # 16-bit codes
        np.random.default_rng(2).integers(-(2**31), 2**31 - 1, (4, 9), dtype=np.int64),  # int64
        np.arange(5).reshape(1, 5),  # one sum per window
        np.zeros((0, 48), np.int32),  # no windows
        np.arange(48),  # one window, no leading axis
    ],
    ids=["codes", "ties", "bottom", "alternating", "16bit", "int64", "five", "empty", "1d"],
)
def test_five_frame_sums_equal_their_definition_and_the_peak_its_first_largest(q):
    """The flat-run sums (straddling sums dropped) equal each window's own, in any shape; the
    peak is the largest and its frame the first of the largest."""
    sums = five_frame_sums(q)
    naive = naive_five_frame_sums(np.asarray(q))
    np.testing.assert_array_equal(sums.astype(object), naive)
    if naive.size:
        peak, start = five_frame_peak(q)
        np.testing.assert_array_equal(peak.astype(object), naive.max(axis=-1))
        first = np.array([list(r).index(max(r)) for r in naive.reshape(-1, naive.shape[-1])])
        np.testing.assert_array_equal(start.reshape(-1), first)
        appended = append_peak(q)
        np.testing.assert_array_equal(appended[..., :-1], q)
        np.testing.assert_array_equal(appended[..., -1].astype(object), naive.max(axis=-1) // 5)


def test_windows_shorter_than_five_frames_are_refused():
    with pytest.raises(ValueError, match="no 5-value sum"):
        five_frame_sums(np.zeros((2, 4), np.int32))
