"""brevitas QAT forward = QONNX execution = integer golden model, bit for bit.

Each config's model is calibrated on random integers, then perturbed so that weight and bias
quantization ties and bias saturation occur; its vectors cover the full signed range, zeros,
extremes, input saturation, activation saturation and exact rounding ties in every ReLU
requantization. Outputs are compared as integers (output / 2**exponent, checked integral).
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from brevitas import nn as qnn

from uvhunt.quant.config import ModelConfig
from uvhunt.quant.golden import GoldenMLP, IntegerLayer, shift_round_half_even
from uvhunt.quant.models import QuantMLP
from uvhunt.quant.preprocess import Preprocessing
from uvhunt.quant.qonnx_io import QuantSpec, export_qonnx_model, load_qonnx, run_qonnx
from uvhunt.quant.vectors import make_vectors, tie_mask

CONFIGS = {
    "default": ModelConfig(),
    "one_hidden_4bit": ModelConfig(hidden=(8,), weight_bits=4, activation_bits=4, bias_bits=12),
    "three_hidden_8bit": ModelConfig(
        hidden=(24, 16, 8), weight_bits=8, activation_bits=8, bias_bits=20
    ),
    "input_10bit": ModelConfig(
        hidden=(16, 8), preprocessing=Preprocessing(bits=10), weight_bits=5, activation_bits=7
    ),
    "per_layer_bits": ModelConfig(hidden=(16, 8), layer_weight_bits=(3, 7, 4)),
    "peak_input": ModelConfig(hidden=(16, 8), preprocessing=Preprocessing(peak_input=True)),
}


@dataclass
class Case:
    name: str
    config: ModelConfig
    path: Path
    model: QuantMLP
    golden: GoldenMLP
    vectors: dict[str, np.ndarray]
    brevitas: dict[str, np.ndarray]
    qonnx: dict[str, np.ndarray]


def calibrated_model(config: ModelConfig, seed: int) -> QuantMLP:
    """A QuantMLP with activation scales set by a few training-mode passes, then perturbed:
    some weights and biases exactly halfway between two quantization steps (ties), one
    hidden bias far beyond the bias range (saturates the bias quantizer)."""
    torch.manual_seed(seed)
    model = QuantMLP(config.validate())
    bits = config.preprocessing.bits
    x = torch.randint(-(2 ** (bits - 1)), 2 ** (bits - 1), (2048, config.inputs)).float()
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(x)
    model.eval()
    linears = [m for m in model.net if isinstance(m, qnn.QuantLinear)]
    with torch.no_grad():
        accumulator_scales = _accumulator_scales(model, x[:4])
        for index, (layer, acc_scale) in enumerate(zip(linears, accumulator_scales, strict=True)):
            w_scale = float(layer.quant_weight().scale)
            rows, cols = layer.weight.shape
            largest = float(layer.weight.abs().max())
            for n, k in enumerate((-3, -2, 1, 2, 4, 7)):  # weight ties: k + 0.5 steps
                row, col = n % rows, (3 * n) % cols
                if abs(k + 0.5) * w_scale < largest and abs(layer.weight[row, col]) < largest:
                    layer.weight[row, col] = (k + 0.5) * w_scale
            assert float(layer.quant_weight().scale) == w_scale  # the scale did not move
            for n, k in enumerate((2, -4, 1, -1)[:rows]):  # bias ties
                layer.bias[n] = (k + 0.5) * acc_scale
            if index == 0 and rows > 4:
                layer.bias[4] = 1e6 * acc_scale  # beyond the bias range: clipped
    return model


def _accumulator_scales(model: QuantMLP, x: torch.Tensor) -> list[float]:
    scales, t, act_scale = [], x, 1.0
    for module in model.net:
        if isinstance(module, qnn.QuantLinear):
            scales.append(act_scale * float(module.quant_weight().scale))
        t = module(t)
        if hasattr(t, "scale") and not isinstance(module, qnn.QuantLinear):
            act_scale = float(t.scale)
    return scales


@pytest.fixture(scope="module", params=list(CONFIGS))
def case(request, tmp_path_factory) -> Case:
    config = CONFIGS[request.param]
    seed = list(CONFIGS).index(request.param)
    model = calibrated_model(config, seed)
    path = export_qonnx_model(model, config, tmp_path_factory.mktemp("qonnx") / "model.onnx")
    golden = GoldenMLP.from_qonnx(path).compile()
    vectors = make_vectors(golden, config, seed)
    qonnx_model = load_qonnx(path)
    brevitas, qonnx = {}, {}
    model.eval()
    with torch.no_grad():
        for name, q in vectors.items():
            brevitas[name] = model(torch.from_numpy(q).float()).numpy()
            qonnx[name] = run_qonnx(qonnx_model, q)
    return Case(request.param, config, path, model, golden, vectors, brevitas, qonnx)


def as_integers(values: np.ndarray, exponent: int) -> np.ndarray:
    """Outputs divided by their scale 2**exponent: must be integers."""
    scaled = np.ldexp(np.asarray(values, dtype=np.float64), -exponent)
    assert np.all(scaled == np.round(scaled)), "output is not a multiple of its scale"
    return scaled.astype(np.int64)


def test_brevitas_equals_qonnx_equals_golden(case):
    exponent = case.golden.output_exponent
    for name, q in case.vectors.items():
        golden = case.golden.predict_int(q)
        np.testing.assert_array_equal(
            as_integers(case.qonnx[name], exponent), golden, err_msg=f"QONNX != golden on {name}"
        )
        np.testing.assert_array_equal(
            as_integers(case.brevitas[name], exponent),
            golden,
            err_msg=f"brevitas != golden on {name}",
        )
        np.testing.assert_array_equal(case.golden.predict(q), case.brevitas[name])
    if case.name == "default":
        assert sum(len(q) for q in case.vectors.values()) >= 10_000


def test_fast_golden_equals_int64_trace(case):
    for name, q in case.vectors.items():
        trace = case.golden.trace(q)
        np.testing.assert_array_equal(
            case.golden.predict_int(q), trace["accumulators"][-1][:, 0], err_msg=name
        )


def test_vectors_hit_ties_and_saturation(case):
    """The vectors do reach what they are meant to: ties rounding both ways in every hidden
    layer, saturated activations, clipped inputs."""
    everything = np.concatenate(list(case.vectors.values()))
    trace = case.golden.trace(everything)
    for index, layer in enumerate(case.golden.layers[:-1]):
        acc, act = trace["accumulators"][index], trace["activations"][index]
        high = layer.output_quant.high
        assert (act == high).sum() > 0 and (act == 0).sum() > 0
        assert (shift_round_half_even(np.maximum(acc, 0), layer.shift) > high).any()
        if layer.shift > 0:
            tie = tie_mask(acc, layer)
            floor = acc >> layer.shift
            assert (tie & (floor % 2 == 0)).sum() >= 20, f"layer {index}: no ties to round down"
            assert (tie & (floor % 2 == 1)).sum() >= 20, f"layer {index}: no ties to round up"
    q = case.vectors["extremes"]
    assert (np.abs(q) > case.golden.input_quant.high + 1).any()


def test_half_up_rounding_would_be_caught(case):
    """On the tie vectors, rounding halves up (da4ml's RND) changes outputs: the comparison
    above would catch a stage that rounds ties the wrong way."""
    golden = case.golden
    for index, layer in enumerate(golden.layers[:-1]):
        if layer.shift <= 0:
            continue
        q = case.vectors[f"ties_layer{index}"]
        x = golden.trace(q)["input"]
        for hidden in golden.layers:
            acc = x @ hidden.weight + hidden.bias
            if hidden.output_quant is not None:
                shift = hidden.shift
                up = np.maximum(acc, 0) + (1 << (shift - 1) if shift > 0 else 0)
                x = np.clip(
                    shift_round_half_even(up, shift) if shift <= 0 else up >> shift,
                    0,
                    hidden.output_quant.high,
                )
        assert (acc[:, 0] != golden.predict_int(q)).any()


def test_non_integer_inputs_round_half_to_even_everywhere(case):
    """Inputs are integers in the pipeline, but all three treat x.5 inputs alike."""
    rng = np.random.default_rng(5)
    high = case.golden.input_quant.high
    q = (rng.integers(-high - 3, high + 3, (256, case.config.inputs)) + 0.5).astype(np.float32)
    exponent = case.golden.output_exponent
    with torch.no_grad():
        brevitas = case.model(torch.from_numpy(q)).numpy()
    golden = case.golden.predict_int(q)
    np.testing.assert_array_equal(as_integers(brevitas, exponent), golden)
    np.testing.assert_array_equal(
        as_integers(run_qonnx(load_qonnx(case.path), q), exponent), golden
    )
    np.testing.assert_array_equal(golden, case.golden.trace(q)["accumulators"][-1][:, 0])


# ---- the golden model's own verbs ------------------------------------------------------------


def test_write_read_round_trip(case, tmp_path):
    path = case.golden.write(tmp_path / "golden.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["golden.npz"]
    again = GoldenMLP.read(path).compile()
    q = case.vectors["random"]
    np.testing.assert_array_equal(again.predict_int(q), case.golden.predict_int(q))
    assert again.describe() == case.golden.describe()


def test_valid_configs_compile_to_float32(case):
    golden = GoldenMLP.from_qonnx(case.path).compile()
    assert golden.dtype is np.float32
    description = golden.describe()
    assert description["compute_dtype"] == "float32"
    assert [layer["shift"] for layer in description["layers"]][-1] is None
    assert all(layer["accumulator_bound"] < 2**24 for layer in description["layers"])


def test_any_integer_dtype_saturates_alike(case):
    n, high = case.config.inputs, case.golden.input_quant.high
    rng = np.random.default_rng(9)
    big = rng.integers(-(2**40), 2**40, (200, n))
    big[:, ::3] = rng.integers(-3, 3, (200, (n + 2) // 3))
    for q in (
        big,
        np.abs(big).astype(np.uint64),
        (big % 256).astype(np.uint8),
        np.clip(big, -(2**15), 2**15 - 1).astype(np.int16),
    ):
        expected = case.golden.trace(q)["accumulators"][-1][:, 0]
        np.testing.assert_array_equal(case.golden.predict_int(q), expected, err_msg=str(q.dtype))
        clipped = np.clip(q.astype(np.float64), -high - 1, high)
        np.testing.assert_array_equal(case.golden.predict_int(clipped), expected)


def _wide_model(weight_bits: int, inputs: int, shift: int, seed: int) -> GoldenMLP:
    rng = np.random.default_rng(seed)
    w = QuantSpec(-weight_bits, weight_bits, True, True)
    x = QuantSpec(0, 16, True, False)
    hidden = QuantSpec(shift - weight_bits, 12, False, False)
    b1 = QuantSpec(-weight_bits, 24, True, False)
    b2 = QuantSpec(shift - 2 * weight_bits, 30, True, False)
    layers = [
        IntegerLayer(
            rng.integers(w.low, w.high + 1, (inputs, 6)),
            rng.integers(-(2**23), 2**23, 6),
            w,
            b1,
            hidden,
        ),
        IntegerLayer(
            rng.integers(w.low, w.high + 1, (6, 1)), rng.integers(-100, 100, 1), w, b2, None
        ),
    ]
    return GoldenMLP(x, layers)


@pytest.mark.parametrize(
    ("weight_bits", "inputs", "shift", "dtype"),
    [(16, 100, 29, np.float64), (32, 3000, 48, np.int64)],
)
def test_wide_accumulators_pick_an_exact_wider_type(weight_bits, inputs, shift, dtype):
    golden = _wide_model(weight_bits, inputs, shift, 1).compile()
    assert golden.dtype is dtype
    rng = np.random.default_rng(2)
    q = rng.integers(-(2**15), 2**15, (3000, inputs))
    q[:5] = np.where(golden.layers[0].weight[:, :5].T > 0, 2**15 - 1, -(2**15))  # saturate
    np.testing.assert_array_equal(golden.predict_int(q), golden.trace(q)["accumulators"][-1][:, 0])


def test_shift_round_half_even_matches_numpy():
    values = np.arange(-4096, 4097, dtype=np.int64)
    for shift in range(0, 9):
        expected = np.round(values / 2.0**shift).astype(np.int64)
        np.testing.assert_array_equal(shift_round_half_even(values, shift), expected)
    np.testing.assert_array_equal(shift_round_half_even(values, -3), values * 8)
    assert shift_round_half_even(np.array([2, 6, 10, -2, -6]), 2).tolist() == [0, 2, 2, 0, -2]


def test_golden_rejects_bad_inputs_and_layers(case):
    with pytest.raises(ValueError, match="inputs must be"):
        case.golden.predict(np.zeros((3, case.config.inputs + 1)))
    with pytest.raises(ValueError, match="inputs must be finite"):
        case.golden.predict(np.full((3, case.config.inputs), np.nan))
    layer = case.golden.layers[0]
    too_big = IntegerLayer(
        layer.weight * 0 + layer.weight_quant.high + 1,
        layer.bias,
        layer.weight_quant,
        layer.bias_quant,
        layer.output_quant,
    )
    with pytest.raises(ValueError, match="weights outside"):
        GoldenMLP(case.golden.input_quant, [too_big, *case.golden.layers[1:]])
