"""QONNX export: the clean graph, atomic writes, and clear errors for files it cannot use."""

from collections import Counter
from dataclasses import replace

import numpy as np
import onnx
import pytest
import torch
from onnx import helper, numpy_helper
from qonnx.core.modelwrapper import ModelWrapper

from uvhunt._core.errors import UvhuntError
from uvhunt.quant.config import ModelConfig
from uvhunt.quant.golden import GoldenMLP
from uvhunt.quant.models import QuantMLP
from uvhunt.quant.qonnx_io import (
    CONFIG_PROP,
    SUPPORTED_OPS,
    export_qonnx_model,
    load_qonnx,
    parse_qonnx,
    run_qonnx,
)

CONFIG = ModelConfig(hidden=(16, 8))


def calibrated(config: ModelConfig = CONFIG, seed: int = 0) -> QuantMLP:
    torch.manual_seed(seed)
    model = QuantMLP(config.validate())
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randint(-128, 128, (512, config.length)).float())
    return model


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    model = calibrated()
    path = export_qonnx_model(model, CONFIG, tmp_path_factory.mktemp("export") / "m.onnx")
    return model, path


def test_export_writes_the_clean_supported_graph(exported):
    _, path = exported
    assert sorted(p.name for p in path.parent.iterdir()) == ["m.onnx"]  # nothing left over
    model = load_qonnx(path)
    ops = Counter(node.op_type for node in model.graph.node)
    hidden = len(CONFIG.hidden)
    assert set(ops) <= set(SUPPORTED_OPS)
    assert ops == {
        "Quant": 1 + 2 * (hidden + 1) + hidden,
        "MatMul": hidden + 1,
        "Add": hidden + 1,
        "Relu": hidden,
    }
    modes = {
        helper.get_attribute_value(a)
        for node in model.graph.node
        for a in node.attribute
        if a.name == "rounding_mode"
    }
    assert modes == {b"ROUND"}
    assert model.get_tensor_shape(model.graph.input[0].name) == [1, CONFIG.length]
    assert (
        ModelConfig.from_dict(__import__("json").loads(model.get_metadata_prop(CONFIG_PROP)))
        == CONFIG
    )


def test_parsed_layers_have_power_of_two_scales_and_accumulator_scaled_biases(exported):
    parsed = parse_qonnx(load_qonnx(exported[1]))
    assert parsed.sizes == [CONFIG.length, *CONFIG.hidden, 1]
    assert parsed.input_quant.exponent == 0
    assert (parsed.input_quant.low, parsed.input_quant.high) == (-128, 127)
    layer_input = parsed.input_quant
    for layer in parsed.layers:
        assert layer.weight_quant.narrow and layer.weight_quant.bits == CONFIG.weight_bits
        assert layer.bias_quant.exponent == layer_input.exponent + layer.weight_quant.exponent
        if layer.output_quant is not None:
            assert not layer.output_quant.signed
            layer_input = layer.output_quant
    assert parsed.layers[-1].output_quant is None


def test_export_keeps_the_model_usable_and_its_mode(tmp_path):
    model = calibrated()
    x = torch.randint(-128, 128, (64, CONFIG.length)).float()
    model.eval()
    with torch.no_grad():
        before = model(x)
    model.train()
    export_qonnx_model(model, CONFIG, tmp_path / "a.onnx")
    assert model.training
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(x), before, rtol=0, atol=0)
    # a second export replaces the first in place
    path = export_qonnx_model(model, CONFIG, tmp_path / "a.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.onnx"]
    q = x.numpy().astype(np.int32)
    np.testing.assert_array_equal(run_qonnx(load_qonnx(path), q), before.numpy())


def test_unsupported_op_is_named_and_nothing_is_written(tmp_path):
    model = calibrated()
    model.net = torch.nn.Sequential(*model.net, torch.nn.Sigmoid())
    with pytest.raises(UvhuntError, match="unsupported operation Sigmoid") as error:
        export_qonnx_model(model, CONFIG, tmp_path / "out" / "m.onnx")
    assert "Quant, MatMul, Add, Relu" in str(error.value)
    assert error.value.fix
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_model_and_config_must_agree(tmp_path):
    other = replace(CONFIG, weight_bits=CONFIG.weight_bits - 2)
    with pytest.raises(
        UvhuntError,
        match=f"weight bits {CONFIG.weight_bits} "
        rf"\(config: {other.weight_bits}\)",
    ):
        export_qonnx_model(calibrated(), other, tmp_path / "m.onnx")
    assert not list(tmp_path.iterdir())


# ---- files load_qonnx must refuse ------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(UvhuntError, match="QONNX file not found") as error:
        load_qonnx(tmp_path / "nope.onnx")
    assert str(tmp_path / "nope.onnx") in str(error.value) and "fix:" in str(error.value)
    with pytest.raises(UvhuntError, match="not a file"):
        load_qonnx(tmp_path)


@pytest.mark.parametrize(
    "content", [b"", b"hello, this is not a model\n", bytes(range(256)) * 4, b"\x08\x07"]
)
def test_not_onnx(tmp_path, content):
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    with pytest.raises(UvhuntError, match="not an ONNX"):
        load_qonnx(path)
    with pytest.raises(UvhuntError, match="not an ONNX"):
        GoldenMLP.from_qonnx(path)


def test_foreign_onnx_with_conv(tmp_path):
    weight = numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], name="conv0")],
        "cnn",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 1, 5, 5])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 1, 3, 3])],
        [weight],
    )
    path = tmp_path / "cnn.onnx"
    onnx.save(helper.make_model(graph), path)
    with pytest.raises(UvhuntError, match=r"unsupported operation Conv \(node conv0\)"):
        load_qonnx(path)


def _quant_of(model: ModelWrapper, kind: str):
    """A Quant node: the input's, the first weight's, the first bias's or the first
    activation's."""
    quants = [n for n in model.graph.node if n.op_type == "Quant"]
    if kind == "input":
        return next(n for n in quants if n.input[0] == model.graph.input[0].name)
    if kind == "activation":
        return next(n for n in quants if model.find_producer(n.input[0]) is not None)
    consumer = "MatMul" if kind == "weight" else "Add"
    return next(
        n
        for n in quants
        if model.get_initializer(n.input[0]) is not None
        and model.find_consumer(n.output[0]).op_type == consumer
    )


def _sigmoid_on_output(m: ModelWrapper):
    out = m.graph.output[0]
    m.graph.node.append(helper.make_node("Sigmoid", [out.name], ["prob"], name="sigmoid0"))
    m.graph.output.remove(out)
    m.graph.output.append(helper.make_tensor_value_info("prob", onnx.TensorProto.FLOAT, [1, 1]))


def _no_input_quant(m: ModelWrapper):
    quant = _quant_of(m, "input")
    for node in m.graph.node:
        for i, name in enumerate(node.input):
            if name == quant.output[0]:
                node.input[i] = quant.input[0]
    m.graph.node.remove(quant)


def _unquantized_bias(m: ModelWrapper):
    quant = _quant_of(m, "bias")
    add = m.find_consumer(quant.output[0])
    add.input[list(add.input).index(quant.output[0])] = quant.input[0]
    m.graph.node.remove(quant)


def _set_param(kind: str, index: int, value):
    def mutate(m: ModelWrapper):
        m.set_initializer(_quant_of(m, kind).input[index], np.asarray(value, np.float32))

    return mutate


def _floor_rounding(m: ModelWrapper):
    for attribute in _quant_of(m, "activation").attribute:
        if attribute.name == "rounding_mode":
            attribute.s = b"FLOOR"


def _double_bias_scale(m: ModelWrapper):
    quant = _quant_of(m, "bias")
    m.set_initializer(quant.input[1], m.get_initializer(quant.input[1]) * 2)


FOREIGN = {
    "sigmoid": (_sigmoid_on_output, r"unsupported operation Sigmoid \(node sigmoid0\)"),
    "no input quant": (_no_input_quant, "the input is not quantized"),
    "weight scale 0.01": (_set_param("weight", 1, 0.01), "scale 0.01.* is not a power of two"),
    "per-channel scale": (_set_param("weight", 1, np.full((1, 16), 2.0**-7)), "per-channel"),
    "zero point": (_set_param("input", 2, 1.0), "zero point must be 0"),
    "fractional bits": (_set_param("activation", 3, 5.5), "bit width"),
    "floor rounding": (_floor_rounding, "rounding mode FLOOR is not supported"),
    "bias not quantized": (_unquantized_bias, "bias .* is not quantized"),
    "bias scale": (_double_bias_scale, "is not the accumulator scale"),
}


@pytest.mark.parametrize("name", list(FOREIGN))
def test_foreign_qonnx_is_refused(exported, tmp_path, name):
    mutate, message = FOREIGN[name]
    model = ModelWrapper(str(exported[1]))
    mutate(model)
    path = tmp_path / "foreign.onnx"
    model.save(path)
    with pytest.raises(UvhuntError, match=message) as error:
        load_qonnx(path)
    assert str(path) in str(error.value) and "export_qonnx_model" in str(error.value)
    with pytest.raises(UvhuntError):
        GoldenMLP.from_qonnx(path)


def test_golden_read_refuses_other_files(tmp_path):
    with pytest.raises(UvhuntError, match="not found"):
        GoldenMLP.read(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(UvhuntError, match="not a golden model file"):
        GoldenMLP.read(tmp_path / "junk.npz")
    (tmp_path / "zip.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(UvhuntError, match="not a golden model file"):
        GoldenMLP.read(tmp_path / "zip.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(UvhuntError, match="not a golden model file"):
        GoldenMLP.read(tmp_path / "other.npz")
