# amaranth: UnusedElaboratable=no
"""The trigger core made from an exported model: the mapping of the golden model onto the
core, the choice of lanes for real time, and the generated files (Verilog for simulation,
RTLIL for Yosys).

Amaranth (0.5) describes the core (``hls/trigger_core.py``) and writes both files through
its bundled Yosys; RTLIL keeps the large initialized memories compact (the Verilog has one
line per RAM word, which Yosys' Verilog reader takes minutes to read at full size).
"""

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from amaranth.back import rtlil, verilog
from amaranth.sim import Simulator

from uvhunt.hls.tmr import KEEP_COPIES
from uvhunt.hls.trigger_core import GATE_THRESHOLD_BITS, TOP, TriggerCore
from uvhunt.quant.golden import GoldenMLP
from uvhunt.quant.preprocess import Preprocessing

D3_FRAME_S = 0.04096
"""One D3 frame: 128 × 128 × 2.5 µs."""
REAL_TIME_MARGIN = 1.5
"""Cycles available per frame over cycles used, at least, when the lanes are chosen."""
LANE_CHOICES = (2, 4, 6, 8, 10, 12, 16)
MITIGATIONS = ("none", "ecc", "ecc_tmr", "parity_tmr")
"""Single-event-upset mitigation levels of the core, each with the beat's flags
(``m_seu_corrected``, ``m_seu_detected``): none; ``ecc``: the weight and bias ROMs stored
twice with parity (a flipped word served by its copy) and SECDED on the history, corrected on
every read; ``ecc_tmr``: that and triple modular redundancy of the control registers;
``parity_tmr``: as ``ecc_tmr`` but one parity bit per history sample, detected (the pixel's
beats flagged while the flipped sample is in its window) instead of corrected."""
DEFAULT_MITIGATION = "parity_tmr"
SYNTHESIS_READ = f"read_rtlil {TOP}.il\n{KEEP_COPIES}"
"""How Yosys reads the core written by ``write_core`` (tripled registers kept apart)."""
HISTORY_BITS = (9, 12)
"""History widths the core stores (bits per pixel and frame)."""


@dataclass(frozen=True)
class CoreConfig:
    """How the core is built."""

    pixels: int = 2304
    """Pixels per frame (48 × 48; fewer for tests)."""
    lanes: int = 0
    """Parallel multiply-accumulate lanes (even: two share a DSP48); 0 picks the fewest that
    meet the D3 need with ``REAL_TIME_MARGIN`` at ``clock_mhz``."""
    clock_mhz: float = 100.0

    def validate(self) -> "CoreConfig":
        if not 1 <= self.pixels <= 2304:
            raise ValueError(f"pixels must be 1…2,304 (got {self.pixels})")
        if self.lanes and (self.lanes < 2 or self.lanes % 2):
            raise ValueError(f"lanes must be 0 (automatic) or an even number >= 2 ({self.lanes})")
        if not 1.0 <= self.clock_mhz <= 500.0:
            raise ValueError(f"clock must be 1…500 MHz (got {self.clock_mhz})")
        return self

    def to_dict(self) -> dict:
        return asdict(self)


def core_model(golden: GoldenMLP, preprocessing: Preprocessing) -> dict:
    """The integers the core's ROMs hold, or ValueError saying why the model cannot map."""
    why = []
    spec = golden.input_quant
    bits = preprocessing.bits
    if not 2 <= bits <= 8 or spec.bits != bits or spec.exponent != 0 or not spec.signed:
        why.append(
            f"inputs must be signed integers of 2…8 bits at scale 1, as the preprocessing gives "
            f"(preprocessing {bits} bits; input quantizer {spec.bits} bits, scale "
            f"2**{spec.exponent})"
        )
    if preprocessing.history_bits not in HISTORY_BITS:
        why.append(
            f"history_bits {preprocessing.history_bits} is not one the core stores "
            f"({', '.join(map(str, HISTORY_BITS))})"
        )
    if golden.sizes[-1] != 1:
        why.append(f"one output is needed (the model has {golden.sizes[-1]})")
    for index, layer in enumerate(golden.layers[:-1]):
        out = layer.output_quant
        if out.bits != 8 or out.signed or layer.shift is None:
            why.append(
                f"hidden layer {index} must give 8-bit unsigned activations by a power-of-two "
                f"shift (it has {out.bits} bits, shift {layer.shift})"
            )
    weight_bits = max(layer.weight_quant.bits for layer in golden.layers)
    if weight_bits > 6:
        why.append(f"weights of at most 6 bits fit two per DSP48 (the model has {weight_bits})")
    if why:
        raise ValueError("; ".join(why))
    return {
        "sizes": list(golden.sizes),
        "W": [np.array(layer.weight, np.int64) for layer in golden.layers],  # copies
        "B": [np.array(layer.bias, np.int64) for layer in golden.layers],
        "shifts": [int(layer.shift) for layer in golden.layers[:-1]],
        "wbits": int(weight_bits),
        "shift": preprocessing.shift,
        "history_bits": preprocessing.history_bits,
        "peak_input": preprocessing.peak_input,
        "input_bits": bits,
    }


def make_core(
    model: dict,
    pixels: int,
    lanes: int,
    mask: np.ndarray | None = None,
    mitigation: str = "none",
) -> TriggerCore:
    """The core, or ValueError when the model's accumulators do not fit its arithmetic.
    ``mask``: (pixels,) bools, the pixel mask's initial value (True: never triggers);
    ``mitigation``: one of ``MITIGATIONS``."""
    if mitigation not in MITIGATIONS:
        raise ValueError(f"mitigation must be one of {', '.join(MITIGATIONS)} (got {mitigation})")
    try:
        return TriggerCore(
            model,
            P=pixels,
            L=model["sizes"][0] - int(model.get("peak_input", False)),
            lanes=lanes,
            history_bits=model["history_bits"],
            shift=model["shift"],
            mask=None if mask is None else np.asarray(mask, bool).tolist(),
            ecc=mitigation != "none",
            history_check="parity" if mitigation == "parity_tmr" else "secded",
            tmr=mitigation.endswith("_tmr"),
            peak_input=bool(model.get("peak_input", False)),
            input_bits=model.get("input_bits", 8),
        )
    except AssertionError as exc:
        raise ValueError(str(exc) or "the model does not fit the core's arithmetic") from exc


def cycles_per_pixel(model: dict, lanes: int) -> int:
    """Clocks the core takes per pixel once windows are full, measured by simulating one
    pixel of zeros with both gate threshold codes all ones (never: the gate's longest
    products). The schedule does not depend on the pixel count, nor on the values while the
    gate's products end before the network's passes (the default model at 4 or 6 lanes).
    With a few neurons the gate sets the pace: 48-4-4-1 at 2 lanes takes 229 clocks here, and
    up to 21 more on a pixel whose S and Σq are long (10 and 13 bits)."""
    core = make_core(model, 1, lanes)
    length = model["sizes"][0]
    sim = Simulator(core)
    sim.add_clock(1e-8)
    accepted: list[int] = []

    async def bench(ctx):
        ctx.set(core.m_tready, 1)
        ctx.set(core.s_tvalid, 1)
        for port in (core.gate_threshold, core.gate_low_threshold):
            ctx.set(port, (1 << GATE_THRESHOLD_BITS) - 1)
        clock = 0
        while len(accepted) < length + 1:
            ready = ctx.get(core.s_tready)
            await ctx.tick()
            clock += 1
            if ready:
                accepted.append(clock)

    sim.add_testbench(bench)
    sim.run()
    return accepted[-1] - accepted[-2]  # between the last two windowed pixels


def choose_lanes(model: dict, config: CoreConfig) -> tuple[int, int]:
    """(lanes, cycles per pixel): the configured lanes, or the fewest meeting the margin."""
    if config.lanes:
        return config.lanes, cycles_per_pixel(model, config.lanes)
    budget = cycles_available(config.clock_mhz) / REAL_TIME_MARGIN
    for lanes in LANE_CHOICES:
        if lanes > min(model["sizes"][1:-1], default=lanes):
            break
        cycles = cycles_per_pixel(model, lanes)
        if cycles * config.pixels <= budget:
            return lanes, cycles
    return lanes, cycles


def cycles_available(clock_mhz: float) -> int:
    """Clocks in one D3 frame."""
    return math.floor(clock_mhz * 1e6 * D3_FRAME_S)


def write_core(core: TriggerCore, folder: Path, description: dict) -> dict:
    """``uvhunt_core.v`` (simulation), ``uvhunt_core.il`` (synthesis) and ``core.json``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{TOP}.il").write_text(rtlil.convert(core, name=TOP))
    (folder / f"{TOP}.v").write_text(verilog.convert(core, name=TOP))
    (folder / "core.json").write_text(json.dumps(description, indent=1))
    return description
