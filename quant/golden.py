"""The integer golden model: the exported QONNX MLP in exact integer arithmetic (numpy).

Built from the QONNX file (``GoldenMLP.from_qonnx``), never from torch, it is the reference
that brevitas, QONNX execution, the hls4ml C-sim and the RTL must equal bit for bit. For each
layer, with integer inputs ``x`` at scale 2**e_in::

    acc = x @ W + b                     integer weights W (scale 2**e_w), biases b at the
                                        accumulator scale 2**(e_in + e_w)
    hidden:  y = clip(round_half_even(max(acc, 0) / 2**shift), 0, 2**bits - 1)
                                        shift = e_out - e_in - e_w (a right shift with
                                        round-half-to-even; a left shift when negative)
    last:    the logit is acc × 2**(e_in + e_w)

Same verbs as every hardware model: ``write(path)``, ``compile()``, ``predict(q)``, plus
``predict_int(q)`` (the last accumulators) and ``trace(q)`` (every layer's integers).

Speed: ``compile()`` bounds every accumulator from the integer weights; when every bound is
below 2**24 (2**53) the layers run as float32 (float64) BLAS matrix products on
integer-valued arrays with the requantization shift folded into the weights as a power of
two. Every product and partial sum is then an integer multiple of a power of two below the
mantissa limit, so it is exact, and ``np.round`` (half to even) on it is the exact
integer rounding. Otherwise the layers run in int64. ``trace`` always runs in int64 with
integer shifts: an independent reference for the fast path.
"""

import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from uvhunt._core.atomic import atomic_file
from uvhunt._core.errors import UvhuntError
from uvhunt.quant.config import ModelConfig
from uvhunt.quant.qonnx_io import QuantSpec, load_qonnx, parse_qonnx

FORMAT = "uvhunt-golden-mlp/1"
CHUNK = 8192
"""Vectors per block: the block's activations stay in cache (measured fastest: 2k-8k)."""
MAX_SHIFT = 62
MAX_INPUT_EXPONENT = 24


@dataclass(frozen=True)
class IntegerLayer:
    """One dense layer in integers: ``acc = x @ weight + bias`` then, if hidden, ReLU and
    requantization to ``output_quant``."""

    weight: np.ndarray
    """(inputs, outputs) int64, in units of 2**weight_quant.exponent."""
    bias: np.ndarray
    """(outputs,) int64, in units of the accumulator scale 2**bias_quant.exponent."""
    weight_quant: QuantSpec
    bias_quant: QuantSpec
    output_quant: QuantSpec | None = None
    """Quantizer after the ReLU; None for the last layer (no ReLU, the accumulator is out)."""

    @property
    def accumulator_exponent(self) -> int:
        return self.bias_quant.exponent

    @property
    def shift(self) -> int | None:
        """Right shift from accumulator to activation integers (negative: left shift)."""
        if self.output_quant is None:
            return None
        return self.output_quant.exponent - self.accumulator_exponent


class GoldenMLP:
    """The exact integer model of an exported QONNX MLP (see the module docstring)."""

    def __init__(
        self, input_quant: QuantSpec, layers: Sequence[IntegerLayer], source: dict | None = None
    ):
        self.input_quant = input_quant
        self.layers = tuple(layers)
        self.source = dict(source or {})
        self.dtype: type | None = None
        """Compute type picked by ``compile()``: np.float32, np.float64 or np.int64."""
        self._plan: list[tuple[np.ndarray, np.ndarray, float | None]] = []
        self.validate()

    # ---- construction -------------------------------------------------------------------

    @classmethod
    def from_qonnx(cls, path: Path) -> "GoldenMLP":
        """Read an exported QONNX file (``quant.export.load_qonnx`` checks it) into integers:
        ``W = clip(round_half_even(W_float / scale))`` to each quantizer's range."""
        path = Path(path)
        parsed = parse_qonnx(load_qonnx(path), path)
        layers = [
            IntegerLayer(
                _integers(layer.weight, layer.weight_quant),
                _integers(layer.bias, layer.bias_quant),
                layer.weight_quant,
                layer.bias_quant,
                layer.output_quant,
            )
            for layer in parsed.layers
        ]
        source = {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
        try:
            return cls(parsed.input_quant, layers, source)
        except ValueError as exc:
            raise UvhuntError(f"cannot build the golden model: {exc}", path=path) from exc

    @classmethod
    def read(cls, path: Path) -> "GoldenMLP":
        """Read a model saved by ``write``."""
        path = Path(path)
        if not path.is_file():
            raise UvhuntError(
                "golden model file not found",
                path=path,
                fix="write it with GoldenMLP.write",
            )
        try:
            with np.load(path, allow_pickle=False) as data:
                description = json.loads(str(data["description"]))
                if description.get("format") != FORMAT:
                    raise ValueError(f"format {description.get('format')!r}, not {FORMAT}")
                layers = []
                for index, layer in enumerate(description["layers"]):
                    out = layer["output"]
                    layers.append(
                        IntegerLayer(
                            data[f"layer{index}_weight"].astype(np.int64),
                            data[f"layer{index}_bias"].astype(np.int64),
                            QuantSpec.from_dict(layer["weight"]),
                            QuantSpec.from_dict(layer["bias"]),
                            None if out is None else QuantSpec.from_dict(out),
                        )
                    )
                return cls(
                    QuantSpec.from_dict(description["input"]), layers, description.get("source")
                )
        except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
            raise UvhuntError(
                f"not a golden model file ({exc})",
                path=path,
                fix="write it with GoldenMLP.write",
            ) from exc

    def validate(self) -> "GoldenMLP":
        """Check shapes, integer ranges and scales; ``ValueError`` naming the layer."""
        if not self.layers:
            raise ValueError("no layers")
        if not self.input_quant.signed:
            raise ValueError("the input quantizer must be signed")
        if abs(self.input_quant.exponent) > MAX_INPUT_EXPONENT:
            raise ValueError(f"input scale 2**{self.input_quant.exponent} is out of range")
        previous = self.input_quant
        for index, layer in enumerate(self.layers):
            where = f"layer {index}"
            w, b = layer.weight, layer.bias
            if w.ndim != 2 or b.shape != (w.shape[1],):
                raise ValueError(f"{where}: weight {w.shape} and bias {b.shape} do not fit")
            if index and w.shape[0] != self.layers[index - 1].weight.shape[1]:
                raise ValueError(
                    f"{where}: takes {w.shape[0]} inputs, previous layer gives "
                    f"{self.layers[index - 1].weight.shape[1]}"
                )
            for name, values, spec in (
                ("weight", w, layer.weight_quant),
                ("bias", b, layer.bias_quant),
            ):
                if values.dtype != np.int64:
                    raise ValueError(f"{where}: {name}s must be int64, not {values.dtype}")
                if values.size and (values.min() < spec.low or values.max() > spec.high):
                    raise ValueError(f"{where}: {name}s outside [{spec.low}, {spec.high}]")
            if layer.bias_quant.exponent != previous.exponent + layer.weight_quant.exponent:
                raise ValueError(
                    f"{where}: bias scale 2**{layer.bias_quant.exponent} is not "
                    "input scale × weight scale"
                )
            last = index == len(self.layers) - 1
            if last != (layer.output_quant is None):
                raise ValueError(f"{where}: only the last layer has no activation quantizer")
            if not last:
                if abs(layer.shift) > MAX_SHIFT:
                    raise ValueError(f"{where}: requantization shift {layer.shift} is too large")
                previous = layer.output_quant
        return self

    # ---- description and files ----------------------------------------------------------

    @property
    def sizes(self) -> list[int]:
        return [self.layers[0].weight.shape[0]] + [layer.weight.shape[1] for layer in self.layers]

    @property
    def output_exponent(self) -> int:
        """The logit is ``predict_int(q) * 2**output_exponent``."""
        return self.layers[-1].accumulator_exponent

    def accumulator_bounds(self) -> list[int]:
        """Largest possible |accumulator| (and |partial sum|) of each layer, exact."""
        bounds = []
        magnitude = self.input_quant.magnitude
        for layer in self.layers:
            column = np.abs(layer.weight).sum(axis=0)
            bounds.append(
                max(
                    int(c) * magnitude + abs(int(b))
                    for c, b in zip(column, layer.bias, strict=True)
                )
            )
            if layer.output_quant is not None:
                magnitude = layer.output_quant.high
        return bounds

    def describe(self) -> dict:
        """JSON-able description: sizes, every quantizer, shifts and accumulator bounds."""
        bounds = self.accumulator_bounds()
        layers = []
        for layer, bound in zip(self.layers, bounds, strict=True):
            out = layer.output_quant
            layers.append(
                {
                    "inputs": int(layer.weight.shape[0]),
                    "outputs": int(layer.weight.shape[1]),
                    "weight": layer.weight_quant.to_dict(),
                    "bias": layer.bias_quant.to_dict(),
                    "accumulator_exponent": layer.accumulator_exponent,
                    "accumulator_bound": bound,
                    "accumulator_bits": bound.bit_length() + 1,
                    "relu": out is not None,
                    "output": None if out is None else out.to_dict(),
                    "shift": layer.shift,
                }
            )
        return {
            "format": FORMAT,
            "source": self.source,
            "sizes": self.sizes,
            "input": self.input_quant.to_dict(),
            "layers": layers,
            "output_exponent": self.output_exponent,
            "rounding": "half to even",
            "saturation": "clip to the quantizer range",
            "compute_dtype": None if self.dtype is None else np.dtype(self.dtype).name,
        }

    def write(self, path: Path) -> Path:
        """Save integers and description as ``.npz`` (atomically: temporary file, rename)."""
        path = Path(path)
        arrays = {"description": np.array(json.dumps(self.describe()))}
        for index, layer in enumerate(self.layers):
            arrays[f"layer{index}_weight"] = layer.weight
            arrays[f"layer{index}_bias"] = layer.bias
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        with atomic_file(path) as partial:
            partial.write_bytes(buffer.getvalue())
        return path

    # ---- compile and predict ------------------------------------------------------------

    def compile(self) -> "GoldenMLP":
        """Validate and pick the fastest exact compute type from the accumulator bounds."""
        self.validate()
        bound = max(self.accumulator_bounds())
        # Integer inputs beyond 2**24 may round in float32, harmlessly only if they saturate.
        input_span = (self.input_quant.magnitude + 1) * 2.0 ** max(self.input_quant.exponent, 0)
        if bound < 2**24 and input_span < 2**24:
            self.dtype = np.float32
        elif bound < 2**53 and input_span < 2**53:
            self.dtype = np.float64
        elif bound < 2**62:
            self.dtype = np.int64
        else:
            raise ValueError(f"accumulators could reach {bound:.3g}: beyond int64")
        self._plan = []
        if self.dtype is not np.int64:
            for layer in self.layers:
                scale = 1.0 if layer.shift is None else 2.0**-layer.shift
                weight = np.ascontiguousarray((layer.weight * scale).astype(self.dtype))
                bias = (layer.bias * scale).astype(self.dtype)
                high = None if layer.output_quant is None else float(layer.output_quant.high)
                self._plan.append((weight, bias, high))
        return self

    def predict_int(self, q: np.ndarray) -> np.ndarray:
        """The last layer's integer accumulators, int64: (N,) for one output, else (N, M)."""
        q = self._check_inputs(q)
        if self.dtype is None:
            self.compile()
        if self.dtype is np.int64:
            acc = self.trace(q)["accumulators"][-1]
        else:
            acc = self._predict_float(q).astype(np.int64)
        return acc[:, 0] if acc.shape[1] == 1 else acc

    def predict(self, q: np.ndarray) -> np.ndarray:
        """The logits as float64: accumulators × 2**output_exponent (exact)."""
        return np.ldexp(self.predict_int(q).astype(np.float64), self.output_exponent)

    def _predict_float(self, q: np.ndarray) -> np.ndarray:
        n, dtype = len(q), self.dtype
        out = np.empty((n, self.sizes[-1]), dtype=dtype)
        spec = self.input_quant
        rescale = spec.exponent != 0 or q.dtype.kind == "f"
        with _single_thread_blas():
            for start in range(0, n, CHUNK):
                stop = min(start + CHUNK, n)
                x = q[start:stop].astype(dtype)  # vectors in rows: 1.5× faster than columns
                if rescale:
                    x *= 2.0**-spec.exponent
                    np.round(x, out=x)
                np.clip(x, spec.low, spec.high, out=x)
                for weight, bias, high in self._plan:
                    h = x @ weight
                    h += bias
                    if high is not None:
                        np.round(h, out=h)
                        np.clip(h, 0.0, high, out=h)
                    x = h
                out[start:stop] = x
        return out

    def trace(self, q: np.ndarray) -> dict[str, object]:
        """Every layer's integers, computed in int64 with integer shifts (slow, exact):
        ``{"input": (N, inputs), "accumulators": [(N, n) per layer],
        "activations": [(N, n) per hidden layer]}``."""
        x = self.input_codes(q)
        result: dict[str, object] = {"input": x, "accumulators": [], "activations": []}
        for layer in self.layers:
            acc = x @ layer.weight + layer.bias
            result["accumulators"].append(acc)
            if layer.output_quant is not None:
                x = np.clip(
                    shift_round_half_even(np.maximum(acc, 0), layer.shift),
                    0,
                    layer.output_quant.high,
                )
                result["activations"].append(x)
        return result

    def input_codes(self, q: np.ndarray) -> np.ndarray:
        """The input quantizer's integers (int64, vectors × inputs): what the firmware's input
        port carries for the vectors ``q`` (rounded half to even and saturated)."""
        q = self._check_inputs(q)
        spec = self.input_quant
        if q.dtype.kind == "f":
            x = np.round(np.ldexp(q.astype(np.float64), -spec.exponent))
            x = np.clip(x, spec.low, spec.high).astype(np.int64)
        else:  # values beyond the limit saturate anyway; clipping first avoids overflow
            limit = (spec.magnitude + 1) << max(spec.exponent, 0)
            info, x = np.iinfo(q.dtype), q
            if limit < info.max:
                x = np.minimum(x, limit)
            if -limit > info.min:
                x = np.maximum(x, -limit)
            x = shift_round_half_even(x.astype(np.int64), spec.exponent)
            x = np.clip(x, spec.low, spec.high)
        return x

    def _check_inputs(self, q: np.ndarray) -> np.ndarray:
        q = np.asarray(q)
        if q.ndim != 2 or q.shape[1] != self.sizes[0]:
            raise ValueError(f"inputs must be (vectors, {self.sizes[0]}), got {q.shape}")
        if q.dtype.kind == "f":
            if q.dtype != np.float32:
                q = q.astype(np.float32)  # the graph's input is float32 (QONNX, brevitas)
            if not np.isfinite(q).all():
                raise ValueError("inputs must be finite")
        elif q.dtype.kind not in "iu":
            raise ValueError(f"inputs must be numbers, got {q.dtype}")
        return q


def shift_round_half_even(values: np.ndarray, shift: int) -> np.ndarray:
    """``round_half_even(values / 2**shift)`` for int64 ``values``, in integers (a left shift
    when ``shift`` <= 0)."""
    if shift <= 0:
        return values * (1 << -shift)
    floor = values >> shift
    rest = values - (floor << shift)
    half = 1 << (shift - 1)
    odd = (floor & 1) == 1
    return floor + ((rest > half) | ((rest == half) & odd))


def _integers(values: np.ndarray, spec: QuantSpec) -> np.ndarray:
    """A QONNX ``Quant`` in integers: clip(round_half_even(values / scale), low, high)."""
    scaled = np.ldexp(np.asarray(values, dtype=np.float64), -spec.exponent)  # exact
    return np.clip(np.round(scaled), spec.low, spec.high).astype(np.int64)


_BLAS = None


def _single_thread_blas():
    """One BLAS thread: for these thin matrices (N × 48 @ 48 × 32) two OpenBLAS threads were
    measured 8x slower than one on the 2-core machine (thread start-up and spin-waits)."""
    global _BLAS
    from threadpoolctl import ThreadpoolController

    if _BLAS is None:
        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


def read_export(folder: Path) -> tuple["GoldenMLP", ModelConfig]:
    """The golden model and model config of an export folder (``golden.npz`` and
    ``manifest.json``, as the export stage writes them)."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        config = ModelConfig.from_dict(manifest["model_config"])
        golden = GoldenMLP.read(folder / "golden.npz").compile()
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise UvhuntError(
            f"no usable exported model ({exc})",
            path=folder,
            fix="give a folder holding manifest.json and golden.npz of an exported model",
            setting="export",
        ) from exc
    return golden, config
