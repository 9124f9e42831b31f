"""RTL generation: da4ml's adder graph of the network equals the golden model on every
vector, the nasty ones included; the top level and the design description are right."""

import json

import numpy as np
import pytest
from da4ml.trace import FixedVariableArrayInput, comb_trace

from tests.golden_models import random_golden
from uvhunt.hls.rtl import (
    RtlConfig,
    RtlDesign,
    check_trace,
    generate_rtl,
    interpret,
    top_verilog,
    write_design,
)
from uvhunt.hls.rtl_trace import peak_division, trace_network
from uvhunt.quant.config import ModelConfig
from uvhunt.quant.preprocess import Preprocessing, append_peak, five_frame_peak
from uvhunt.quant.vectors import make_vectors, peak_window_groups

CASES = {
    "default_like": ((48, 16, 8, 1), 5, 8, (7, 3)),
    "one_hidden_4bit": ((48, 12, 1), 4, 6, (5,)),
    "three_hidden_wide": ((48, 10, 8, 6, 1), 8, 8, (9, 6, 6)),
    "left_shift": ((48, 8, 1), 3, 8, (-1,)),
    "shift_one": ((48, 8, 4, 1), 5, 4, (1, 1)),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def traced(request):
    sizes, wb, ab, shifts = CASES[request.param]
    golden = random_golden(sizes, wb, ab, shifts, seed=len(request.param))
    return request.param, golden, trace_network(golden)


def test_adder_graph_equals_golden_on_nasty_and_random_vectors(traced):
    name, golden, comb = traced
    groups = make_vectors(golden, ModelConfig(), seed=3)
    groups["random"] = np.random.default_rng(4).integers(-128, 128, (20_000, 48))
    groups["zeros"] = np.zeros((4, 48), np.int64)
    for group, q in groups.items():
        np.testing.assert_array_equal(
            interpret(comb, golden.input_codes(q)), golden.predict_int(q), err_msg=group
        )
    if any(layer.shift > 0 for layer in golden.layers[:-1]):
        assert any(k.startswith("ties_layer") for k in groups), name


def test_units_without_inputs_requantize_their_bias_exactly():
    """Pruning can leave a unit with all its weights zero: its accumulator is its bias, a
    constant, which da4ml 0.6.0 folds wrongly (an unsigned wrap modulo 2**(i+1)); the tracer
    sets such units to the golden model's value. Biases cover odd, even, ties, negative and
    saturating values, and the dead units feed the next layer."""
    for shift in (1, 2, 5):
        golden = random_golden((48, 16, 8, 1), 5, 8, (shift, 3), seed=shift)
        first = golden.layers[0]
        first.weight[:, ::2] = 0  # every other unit of layer 0 has no inputs
        first.bias[::2] = [0, 1, 62, 63, 97, -5, 2**10 + 2 ** (shift - 1), 2**14][:8]
        golden.layers[1].weight[:, 3] = 0
        golden = golden.compile()
        comb = trace_network(golden)
        groups = make_vectors(golden, ModelConfig(), seed=5)
        groups["random"] = np.random.default_rng(6).integers(-128, 128, (5_000, 48))
        for group, q in groups.items():
            np.testing.assert_array_equal(
                interpret(comb, golden.input_codes(q)),
                golden.predict_int(q),
                err_msg=f"shift {shift}, {group}",
            )


def test_half_up_rounding_would_be_caught():
    """da4ml's own RND (half up) instead of the half-even construction differs on the ties
    vectors: they do exercise the requantization's rounding."""
    sizes, wb, ab, shifts = CASES["default_like"]
    golden = random_golden(sizes, wb, ab, shifts, seed=1)
    inputs = FixedVariableArrayInput(48)
    x = inputs.quantize(k=1, i=7, f=0)
    for layer in golden.layers:
        acc = x @ layer.weight.astype(np.float64) + layer.bias.astype(np.float64)
        if layer.output_quant is None:
            x = acc
            break
        scaled = acc * 2.0**-layer.shift
        x = scaled.quantize(k=0, i=8, f=0, overflow_mode="SAT", round_mode="RND")
    half_up = comb_trace(inputs, x, keep_dead_inputs=True)
    ties = make_vectors(golden, ModelConfig(), seed=3)["ties_layer0"]
    codes = golden.input_codes(ties)
    assert np.any(interpret(half_up, codes) != golden.predict_int(ties))
    np.testing.assert_array_equal(interpret(trace_network(golden), codes), golden.predict_int(ties))


def test_generated_folder_describes_the_design(tmp_path):
    sizes, wb, ab, shifts = CASES["default_like"]
    golden = random_golden(sizes, wb, ab, shifts, seed=2)
    design = generate_rtl(golden, trace_network(golden), tmp_path, RtlConfig(latency_cutoff=2))
    write_design(design, {"note": "test"})
    again = RtlDesign.read(tmp_path)
    assert again == design
    assert all(p.is_file() for p in again.source_paths)
    assert again.sources[-1] == "uvhunt_top.v"
    assert again.latency == again.estimate["stages"] + 1 >= 3
    assert (again.inputs, again.input_bits) == (48, 8)
    assert again.output_exponent == golden.output_exponent
    top = (tmp_path / "uvhunt_top.v").read_text()
    assert f"parameter LATENCY = {again.latency}" in top
    assert "input wire [N_INPUTS*INPUT_BITS-1:0] in_data" in top
    assert json.loads((tmp_path / "rtl.json").read_text())["note"] == "test"
    bigger = generate_rtl(
        golden, trace_network(golden), tmp_path / "b", RtlConfig(latency_cutoff=8)
    )
    assert bigger.latency < again.latency


def test_top_level_pads_unsigned_and_shifted_outputs():
    text = top_verilog(48, 8, core_bits=10, zeros=2, output_bits=13, latency=1)
    assert "assign out_data = {1'b0, core_out, 2'b0};" in text
    assert "valid_pipe <= in_valid;" in text
    signed = top_verilog(48, 8, core_bits=12, zeros=0, output_bits=12, latency=5)
    assert "assign out_data = {core_out};" in signed
    assert "valid_pipe <= {valid_pipe[3:0], in_valid};" in signed


def test_unmappable_models_and_settings_are_refused(tmp_path):
    golden = random_golden((48, 4, 2), 4, 8, (4,), seed=0)
    with pytest.raises(ValueError, match="one output"):
        generate_rtl(golden, trace_network(golden), tmp_path, RtlConfig())
    with pytest.raises(ValueError, match="latency_cutoff"):
        RtlConfig(latency_cutoff=0).validate()
    with pytest.raises(ValueError, match="unknown part"):
        RtlConfig(part="xc9999").validate()


@pytest.mark.parametrize("input_bits", [8, 4, 12])
def test_the_graph_computes_the_peak_input_exactly(input_bits, tmp_path):
    """With the peak input, the graph takes the window's 48 codes and computes ⌊S/5⌋ itself:
    equal to the golden model on the codes with ``append_peak``, on the stress groups' windows
    and the peak's own (constant windows of every code: sums at exact multiples of 5 and both
    extremes; pulses at every position; ties). The last input's weights are not zero, and a
    graph fed a wrong peak (⌊S/4⌋) is caught."""
    golden = random_golden((49, 16, 8, 1), 5, 8, (7, 3), seed=input_bits, input_bits=input_bits)
    assert np.count_nonzero(golden.layers[0].weight[-1]) >= 4
    spec = golden.input_quant
    groups = make_vectors(golden, ModelConfig(preprocessing=Preprocessing(peak_input=True)), 3)
    windows = peak_window_groups(groups, 48, spec.low, spec.high, seed=4)
    assert len(windows["peak_constant"]) == 2**input_bits
    comb = trace_network(golden, peak_input=True)
    for group, w in windows.items():
        np.testing.assert_array_equal(
            interpret(comb, w), golden.predict_int(append_peak(w)), err_msg=group
        )
    rows = check_trace(golden, comb, groups, True, seed=4)
    assert sum(r["count"] for r in rows) == sum(len(w) for w in windows.values())
    assert all(r["mismatches"] == 0 for r in rows)
    w = windows["peak_pulses"]
    peak, _ = five_frame_peak(w)
    wrong = np.concatenate([w, (peak // 4)[:, None]], axis=1)
    assert np.any(interpret(comb, w) != golden.predict_int(wrong))
    design = generate_rtl(golden, comb, tmp_path, RtlConfig())
    assert (design.inputs, design.input_bits, design.peak_input) == (48, input_bits, True)
    assert "parameter N_INPUTS = 48" in (tmp_path / "uvhunt_top.v").read_text()


def test_the_peak_division_floors_every_sum():
    """``(n · m) >> k`` is ``n // 5`` for every offset sum of 2…16-bit codes."""
    for bits in range(2, 17):
        multiplier, shift = peak_division(bits)
        n = np.arange(5 * (2**bits - 1) + 1, dtype=np.int64)
        np.testing.assert_array_equal((n * multiplier) >> shift, n // 5, err_msg=str(bits))
        assert multiplier == -(-(2**shift) // 5)
    with pytest.raises(ValueError, match="signed integer input codes"):
        trace_network(random_golden((5, 4, 1), 4, 8, (4,), seed=0), peak_input=True)
