"""An hls4ml project of the exported model: written, compiled as a C simulation, compared.

The verbs are hls4ml's own (``write``, ``compile``, ``predict``), so the C simulation and the
golden model are interchangeable behind them.
"""

import contextlib
import io
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from uvhunt.hls.parts import DEFAULT_PART, PARTS
from uvhunt.hls.precision import hls_config
from uvhunt.quant.golden import GoldenMLP
from uvhunt.quant.qonnx_io import load_qonnx

BACKENDS = ("Vitis", "Vivado")
STRATEGIES = ("Latency", "Resource")


@dataclass(frozen=True)
class FirmwareConfig:
    backend: str = "Vitis"
    part: str = DEFAULT_PART
    clock_period_ns: float = 10.0
    reuse_factor: int = 1
    strategy: str = "Latency"
    io_type: str = "io_parallel"

    def validate(self) -> "FirmwareConfig":
        if self.backend not in BACKENDS:
            raise ValueError(f"backend {self.backend!r} is not one of {', '.join(BACKENDS)}")
        if self.part not in PARTS:
            raise ValueError(f"part {self.part!r} is unknown; known: {', '.join(PARTS)}")
        if not 0.5 <= self.clock_period_ns <= 100.0:
            raise ValueError(f"clock period must be 0.5…100 ns (got {self.clock_period_ns})")
        if self.reuse_factor < 1:
            raise ValueError(f"reuse factor must be >= 1 (got {self.reuse_factor})")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy {self.strategy!r} is not one of {', '.join(STRATEGIES)}")
        return self

    def to_dict(self) -> dict:
        return asdict(self)


def write_testbench(folder: Path, q: np.ndarray, expected: np.ndarray) -> tuple[Path, Path]:
    """hls4ml test-bench files: one vector per line (inputs; expected logits)."""
    folder.mkdir(parents=True, exist_ok=True)
    inputs, outputs = folder / "tb_input_features.dat", folder / "tb_output_predictions.dat"
    np.savetxt(inputs, q, fmt="%d")
    np.savetxt(outputs, np.asarray(expected).reshape(len(q), -1), fmt="%.17g")
    return inputs, outputs


@contextlib.contextmanager
def quiet_hls4ml():
    """hls4ml prints the topology as it parses and warns as it writes: keep stdout for
    --json and the libraries' warnings out of the output."""
    chatter = io.StringIO()
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(chatter),
        contextlib.redirect_stderr(chatter),
    ):
        warnings.simplefilter("ignore")
        yield


def convert_project(
    onnx_path: Path,
    golden: GoldenMLP,
    folder: Path,
    config: FirmwareConfig,
    testbench: tuple[Path, Path] | None = None,
):
    """Convert the QONNX file with hls4ml into a project in ``folder`` (not yet written),
    quietly. Returns the hls4ml model and its configuration."""
    import hls4ml

    model = load_qonnx(onnx_path)
    with quiet_hls4ml():
        hls_cfg = hls_config(
            model, golden.input_quant, config.backend, config.reuse_factor, config.strategy
        )
        data = (
            {}
            if testbench is None
            else {
                "input_data_tb": str(testbench[0]),
                "output_data_tb": str(testbench[1]),
            }
        )
        hls_model = hls4ml.converters.convert_from_onnx_model(
            model,
            output_dir=str(folder),
            io_type=config.io_type,
            backend=config.backend,
            hls_config=hls_cfg,
            part=config.part,
            clock_period=config.clock_period_ns,
            **data,
        )
    return hls_model, hls_cfg


def build_project(
    onnx_path: Path,
    golden: GoldenMLP,
    folder: Path,
    config: FirmwareConfig,
    testbench: tuple[Path, Path],
):
    """Convert the QONNX file with hls4ml, write the project into ``folder`` and compile the
    C simulation. Returns the hls4ml model."""
    hls_model, hls_cfg = convert_project(onnx_path, golden, folder, config, testbench)
    with quiet_hls4ml():
        hls_model.compile()
    return hls_model, hls_cfg


def csim_predict(hls_model, q: np.ndarray) -> np.ndarray:
    """C-simulation logits (float64) for integer inputs (N, inputs)."""
    with contextlib.redirect_stdout(io.StringIO()):
        out = hls_model.predict(np.ascontiguousarray(np.asarray(q, dtype=np.float64)))
    return np.asarray(out, dtype=np.float64).reshape(len(q), -1)[:, 0]


def check_accumulators(hls_model, golden: GoldenMLP) -> None:
    """Every dense accumulator type has the golden model's LSB and room for its exact bound."""
    dense = [layer for layer in hls_model.get_layers() if layer.class_name == "Dense"]
    bounds = golden.accumulator_bounds()
    for layer, reference, bound in zip(dense, golden.layers, bounds, strict=True):
        precision = layer.types["accum_t"].precision
        lsb = precision.integer - precision.width
        needed = int(bound).bit_length() + 1
        if lsb != reference.accumulator_exponent or precision.width < needed:
            raise ValueError(
                f"{layer.name}: accumulator {precision} cannot hold integers up to "
                f"{bound} × 2**{reference.accumulator_exponent}"
            )


def layer_precisions(hls_model) -> dict[str, dict[str, str]]:
    """Every layer's ap_fixed types, as hls4ml chose them."""
    return {
        layer.name: {name: str(t.precision) for name, t in layer.types.items()}
        for layer in hls_model.get_layers()
    }


def first_divergence(hls_model, golden: GoldenMLP, q: np.ndarray) -> dict | None:
    """Name the first layer whose C-simulation outputs differ from the golden model's."""
    with contextlib.redirect_stdout(io.StringIO()):
        _, trace = hls_model.trace(np.ascontiguousarray(np.asarray(q, dtype=np.float64)))
    reference = golden.trace(np.asarray(q, dtype=np.int32))
    expected = []
    for index, layer in enumerate(golden.layers):
        expected.append(
            (
                f"dense {index}",
                np.ldexp(
                    reference["accumulators"][index].astype(np.float64), layer.accumulator_exponent
                ),
            )
        )
        if layer.output_quant is not None:
            expected.append(
                (
                    f"relu {index}",
                    np.ldexp(
                        reference["activations"][index].astype(np.float64),
                        layer.output_quant.exponent,
                    ),
                )
            )
    hls_layers = [name for name in trace if name.startswith(("Dense", "Relu"))]
    for (what, values), name in zip(expected, hls_layers, strict=False):
        got = np.asarray(trace[name], dtype=np.float64).reshape(values.shape)
        bad = np.flatnonzero(np.any(got != values, axis=1))
        if bad.size:
            return {
                "layer": name,
                "golden_layer": what,
                "vectors": int(bad.size),
                "first_vector": int(bad[0]),
            }
    return None
