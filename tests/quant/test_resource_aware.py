"""Resource-aware QAT: per-layer weight bits, magnitude pruning and the adder-graph penalty,
each model still exact through QONNX, the golden model and da4ml's adder graph."""

import numpy as np
import pytest

from tests.fast_training import fast_train_config
from uvhunt.euso.window_store import open_window_dataset
from uvhunt.hls.rtl import interpret
from uvhunt.hls.rtl_trace import trace_network
from uvhunt.quant.chain import compare_chain
from uvhunt.quant.config import ModelConfig, replace
from uvhunt.quant.data import SessionSampler
from uvhunt.quant.golden import GoldenMLP
from uvhunt.quant.qonnx_io import export_qonnx_model
from uvhunt.quant.resource_aware import csd_digits, quantized_cost, sparsity_at
from uvhunt.quant.training import prepare, train
from uvhunt.quant.vectors import make_vectors

FAST = replace(fast_train_config(negatives=3000, max_epochs=3, hard=0), qat_epochs=4)
DENSE = replace(FAST, sparsity=0.0)
"""Fine-tuning that prunes nothing (the default prunes half)."""
CONFIG = ModelConfig(hidden=(16, 8), layer_weight_bits=(3, 6, 4))


def naf_weight(value: int) -> int:
    """Non-zero digits of the non-adjacent form, built digit by digit and checked: NAF has the
    fewest non-zero signed digits of any radix-2 signed-digit form."""
    digits, v = [], value
    while v:
        d = (2 - (v % 4)) if v % 2 else 0  # v mod 4 = 1 → +1, 3 → −1
        digits.append(d)
        v = (v - d) // 2
    assert sum(d * 2**i for i, d in enumerate(digits)) == value
    assert all(not (a and b) for a, b in zip(digits, digits[1:], strict=False))
    return sum(1 for d in digits if d)


def test_csd_digits_are_the_fewest_signed_digits():
    for v in range(-1100, 1101):
        assert csd_digits(v) == naf_weight(v), v
    assert [csd_digits(v) for v in (0, 1, 3, 7, 11, -16)] == [0, 1, 2, 2, 3, 1]


def test_the_pruning_schedule_rises_to_the_final_sparsity_and_holds():
    steps = [sparsity_at(e, 0.6, 5) for e in range(0, 9)]
    assert steps[0] == 0 and steps[5:] == [pytest.approx(0.6)] * 4
    assert all(a < b for a, b in zip(steps[:5], steps[1:6], strict=True))
    assert steps[1] > 0.6 / 5  # most of it early
    assert sparsity_at(3, 0.0, 5) == 0.0


@pytest.fixture(scope="module")
def inputs(window_folder):
    sampler = SessionSampler(open_window_dataset(window_folder))
    data = sampler.draw(sampler.sessions, FAST.negatives, np.random.default_rng(0))
    return prepare(data, CONFIG)


def _exact(model, config, tmp_path) -> GoldenMLP:
    """The model through QONNX into the golden model; brevitas, QONNX and da4ml's adder graph
    must equal it on the nasty vectors."""
    path = export_qonnx_model(model, config, tmp_path / "model.onnx")  # checks the widths
    golden = GoldenMLP.from_qonnx(path).compile()
    vectors = make_vectors(golden, config, seed=3)
    for row in compare_chain(model, path, golden, vectors):
        assert row["brevitas_mismatches"] == 0 and row["qonnx_mismatches"] == 0, row
    comb = trace_network(golden)
    for q in vectors.values():
        np.testing.assert_array_equal(interpret(comb, golden.input_codes(q)), golden.predict_int(q))
    return golden


def test_per_layer_weight_bits_are_exact_through_the_chain(inputs, tmp_path):
    model = train(inputs, CONFIG, FAST).quant_model
    golden = _exact(model, CONFIG, tmp_path)
    assert [layer.weight_quant.bits for layer in golden.layers] == [3, 6, 4]
    for layer, bits in zip(golden.layers, (3, 6, 4), strict=True):
        assert np.abs(layer.weight).max() <= 2 ** (bits - 1) - 1
    with pytest.raises(ValueError, match="layer_weight_bits"):
        replace(CONFIG, layer_weight_bits=(3, 6)).validate()
    assert ModelConfig.from_dict(CONFIG.to_dict()) == CONFIG


def test_pruned_models_keep_their_zeros_and_stay_exact(inputs, tmp_path):
    pruned = replace(FAST, sparsity=0.5, prune_epochs=2)
    result = train(inputs, CONFIG, pruned)
    golden = _exact(result.quant_model, CONFIG, tmp_path)
    for layer in golden.layers:
        assert (layer.weight == 0).mean() >= np.floor(0.5 * layer.weight.size) / layer.weight.size
    # the kept state is one at the final sparsity, not the unpruned start
    assert result.history["qat"]["best_epoch"] >= pruned.prune_epochs
    dense = train(inputs, CONFIG, DENSE).quant_model
    assert (
        quantized_cost(result.quant_model, CONFIG)["digit_bits"]
        < quantized_cost(dense, CONFIG)["digit_bits"]
    )


def test_fewer_qat_epochs_than_prune_epochs_still_end_at_the_final_sparsity(inputs):
    short = replace(FAST, sparsity=0.5, prune_epochs=99).validate()
    result = train(inputs, CONFIG, short)
    for layer in result.quant_model.net:
        if hasattr(layer, "quant_weight"):
            w = layer.quant_weight().value
            assert (w == 0).sum().item() >= np.floor(0.5 * w.numel()), layer
    assert result.history["qat"]["best_epoch"] == short.qat_epochs


def test_the_resource_penalty_lowers_the_digit_cost(inputs, tmp_path):
    plain = train(inputs, CONFIG, DENSE).quant_model
    charged = train(inputs, CONFIG, replace(DENSE, resource_penalty=2.0)).quant_model
    _exact(charged, CONFIG, tmp_path)
    a, b = quantized_cost(plain, CONFIG), quantized_cost(charged, CONFIG)
    assert b["digit_bits"] < a["digit_bits"], (a, b)


def test_bad_resource_settings_are_refused():
    for bad in (
        dict(sparsity=1.0),
        dict(sparsity=-0.1),
        dict(prune_epochs=0),
        dict(resource_penalty=-1.0),
    ):
        with pytest.raises(ValueError):
            replace(FAST, **bad).validate()
