"""The network as pipelined Verilog: da4ml writes the adder-graph pipeline, uvhunt adds only a
thin top level (clock, reset, input and output valid).

The top module ``uvhunt_top`` takes one vector per clock:

* ``in_data``: the input codes (the golden model's input integers), input ``j`` in bits
  ``[B*j + B-1 : B*j]``, two's complement, ``B`` = the input quantizer's bits; with the peak
  input, the window's codes only (the design computes the network's last input, ``⌊S/5⌋``);
* ``out_data``: the last layer's accumulator integer (two's complement); the logit is
  ``out_data × 2**output_exponent``;
* ``out_valid`` follows ``in_valid`` by ``latency`` clocks; ``rst`` (synchronous, active
  high) drops the vectors in flight. The data path has no reset and no enable: it never stalls.
"""

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import da4ml
import numpy as np
from da4ml.codegen import RTLModel
from da4ml.trace.pipeline import to_pipeline
from da4ml.types import CombLogic, minimal_kif

from uvhunt._core.atomic import write_json
from uvhunt.hls.parts import DEFAULT_PART, PARTS
from uvhunt.quant.chain import compare_groups
from uvhunt.quant.golden import GoldenMLP
from uvhunt.quant.preprocess import append_peak
from uvhunt.quant.vectors import peak_window_groups

TOP = "uvhunt_top"
CORE = "uvhunt_mlp"


@dataclass(frozen=True)
class RtlConfig:
    """How the network becomes RTL."""

    latency_cutoff: float = 3.0
    """Largest adder depth between two pipeline registers (da4ml's unit: one adder delay).
    Smaller: more stages, a higher clock; larger: fewer stages and registers."""
    clock_period_ns: float = 10.0
    """Target clock period, ns (constraint files; the real-time margin)."""
    part: str = DEFAULT_PART

    def validate(self) -> "RtlConfig":
        if not self.latency_cutoff > 0:
            raise ValueError("latency_cutoff must be > 0 (the design is always pipelined)")
        if not self.clock_period_ns > 0:
            raise ValueError("clock_period_ns must be > 0")
        if self.part not in PARTS:
            raise ValueError(f"unknown part {self.part!r}; known: {', '.join(PARTS)}")
        return self

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RtlDesign:
    """What a generated RTL folder holds, as written to its ``rtl.json``."""

    folder: Path
    sources: list[str]
    """Verilog files relative to ``folder``, in compile order (top last)."""
    inputs: int
    input_bits: int
    output_bits: int
    output_signed: bool
    output_exponent: int
    latency: int
    """Clocks from a vector on ``in_data`` to its result on ``out_data``."""
    estimate: dict
    """da4ml's own estimate: ``luts`` (its cost figure), ``flip_flops``, ``stages``."""
    config: dict
    peak_input: bool = False
    """The design computes the network's last input (``⌊S/5⌋``) from the ``inputs`` window
    codes it takes."""

    @property
    def source_paths(self) -> list[Path]:
        return [self.folder / s for s in self.sources]

    @classmethod
    def read(cls, folder: Path) -> "RtlDesign":
        data = json.loads((Path(folder) / "rtl.json").read_text())
        return cls(folder=Path(folder), **data["design"])

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("folder")
        return d


def generate_rtl(golden: GoldenMLP, comb: CombLogic, folder: Path, config: RtlConfig) -> RtlDesign:
    """Pipeline ``comb`` (``trace_network(golden, peak_input)``), let da4ml write it into
    ``folder/da4ml`` and write the top level ``folder/uvhunt_top.v``. Raises ValueError when
    the network cannot be mapped."""
    config.validate()
    if golden.sizes[-1] != 1:
        raise ValueError(f"the RTL top level has one output; the model has {golden.sizes[-1]}")
    pipeline = to_pipeline(comb, config.latency_cutoff, verbose=False)
    input_bits = _uniform_input_bits(pipeline, golden)
    inputs = len(pipeline.inp_qint)
    peak_input = inputs == golden.sizes[0] - 1
    k, i, f = (int(v) for v in minimal_kif(pipeline.out_qint[0]))
    if f > 0:
        raise ValueError(f"the traced output has {f} fractional bits; integers were expected")
    core = RTLModel(
        pipeline,
        CORE,
        Path(folder) / "da4ml",
        latency_cutoff=config.latency_cutoff,
        part_name=config.part,
        clock_period=config.clock_period_ns,
        print_latency=False,
    )
    core.write()
    latency = len(pipeline.solutions) + 1  # the input register, then one per stage
    core_bits, zeros = k + i + f, -f
    output_bits = core_bits + zeros + (0 if k else 1)
    (Path(folder) / f"{TOP}.v").write_text(
        top_verilog(inputs, input_bits, core_bits, zeros, output_bits, latency)
    )
    src = Path(folder) / "da4ml" / "src"
    sources = sorted(str(p.relative_to(folder)) for p in (src / "static").glob("*.v"))
    sources += sorted(str(p.relative_to(folder)) for p in src.glob(f"{CORE}_stage*.v")) + [
        f"da4ml/src/{CORE}.v",
        f"{TOP}.v",
    ]
    design = RtlDesign(
        folder=Path(folder),
        sources=sources,
        inputs=inputs,
        input_bits=input_bits,
        output_bits=output_bits,
        output_signed=True,
        output_exponent=golden.output_exponent,
        latency=latency,
        estimate={
            "luts": float(pipeline.cost),
            "flip_flops": int(pipeline.reg_bits),
            "stages": len(pipeline.solutions),
            "generator": f"da4ml {da4ml.__version__}",
        },
        config=config.to_dict(),
        peak_input=peak_input,
    )
    return design


def interpret(comb: CombLogic, codes: np.ndarray) -> np.ndarray:
    """The traced adder graph run by da4ml's own interpreter: the output integers (int64) for
    input codes (vectors, inputs). Checks the trace before any simulator sees the RTL."""
    out = comb.predict(np.asarray(codes, np.float64), n_threads=1)
    return np.round(out[:, 0]).astype(np.int64)


def check_trace(
    golden: GoldenMLP, comb: CombLogic, groups: dict[str, np.ndarray], peak_input: bool, seed: int
) -> list[dict]:
    """``compare_groups`` rows (column ``mismatches``): da4ml's interpreter of ``comb`` against
    the golden model on the input vectors ``groups``. With ``peak_input`` the graph gets each
    vector's window codes (and the peak's stress windows, ``peak_window_groups``) and the
    golden model the same codes with their ``⌊S/5⌋``."""
    if not peak_input:
        return compare_groups(
            golden, groups, {"mismatches": lambda q: interpret(comb, golden.input_codes(q))}
        )
    length, spec = golden.sizes[0] - 1, golden.input_quant
    windows = peak_window_groups(groups, length, spec.low, spec.high, seed)
    with_peak = {name: append_peak(w) for name, w in windows.items()}
    return compare_groups(
        golden, with_peak, {"mismatches": lambda q: interpret(comb, q[:, :length])}
    )


def _uniform_input_bits(pipeline, golden: GoldenMLP) -> int:
    spec = golden.input_quant
    want = (int(spec.signed), spec.bits - int(spec.signed), 0)
    kifs = {tuple(int(v) for v in minimal_kif(q)) for q in pipeline.inp_qint}
    if kifs != {want}:
        raise ValueError(f"input precisions {sorted(kifs)} differ from the input quantizer {want}")
    return spec.bits


def top_verilog(
    inputs: int,
    input_bits: int,
    core_bits: int,
    zeros: int,
    output_bits: int,
    latency: int,
) -> str:
    """The thin top level around da4ml's pipeline: valid bits delayed by ``latency`` clocks,
    the output sign-extended and shifted back to whole accumulator integers."""
    pad = output_bits - core_bits - zeros  # 1 for an unsigned core (a zero sign bit), else 0
    parts = ([f"{pad}'b0"] if pad else []) + ["core_out"] + ([f"{zeros}'b0"] if zeros else [])
    shift = (
        "valid_pipe <= in_valid;"
        if latency == 1
        else f"valid_pipe <= {{valid_pipe[{latency - 2}:0], in_valid}};"
    )
    return f"""`timescale 1 ns / 1 ps
// Generated by uvhunt: the top level around da4ml's pipeline ({CORE}).
// in_data: {inputs} two's-complement {input_bits}-bit input codes, input j in bits
//   [{input_bits}*j+{input_bits - 1}:{input_bits}*j]; one vector per clock when in_valid.
// out_data: the last accumulator (two's complement), out_valid {latency} clocks later.
// rst: synchronous, active high; drops the vectors in flight.
module {TOP} #(
    parameter N_INPUTS = {inputs},
    parameter INPUT_BITS = {input_bits},
    parameter OUTPUT_BITS = {output_bits},
    parameter LATENCY = {latency}
) (
    input wire clk,
    input wire rst,
    input wire in_valid,
    input wire [N_INPUTS*INPUT_BITS-1:0] in_data,
    output wire out_valid,
    output wire signed [OUTPUT_BITS-1:0] out_data
);
    wire [{core_bits - 1}:0] core_out;
    reg [LATENCY-1:0] valid_pipe = {{LATENCY{{1'b0}}}};

    {CORE} core (.clk(clk), .model_inp(in_data), .model_out(core_out));

    always @(posedge clk) begin
        if (rst) valid_pipe <= {{LATENCY{{1'b0}}}};
        else {shift}
    end

    assign out_valid = valid_pipe[LATENCY-1];
    assign out_data = {{{", ".join(parts)}}};
endmodule
"""


def write_design(design: RtlDesign, extra: dict) -> None:
    """``rtl.json``: the design description plus ``extra`` (hashes, checks)."""
    write_json(design.folder / "rtl.json", {"design": design.to_dict(), **extra})
