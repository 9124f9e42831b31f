"""What a front point really costs: Yosys ``synth_xilinx`` of the unrolled design (da4ml's
RTL, as ``uvhunt rtl`` writes it, the peak input's circuit included) and of the streaming
trigger core built around the same golden model (2,304 pixels, the fewest lanes meeting the D3
need), cell by cell."""

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from uvhunt.hls.core_build import (
    SYNTHESIS_READ,
    CoreConfig,
    choose_lanes,
    core_model,
    make_core,
    write_core,
)
from uvhunt.hls.resources import run_synthesis, synthesize
from uvhunt.hls.rtl import RtlConfig, generate_rtl
from uvhunt.hls.rtl_trace import trace_network
from uvhunt.hls.trigger_core import TOP as CORE_TOP
from uvhunt.quant.golden import GoldenMLP
from uvhunt.quant.preprocess import Preprocessing

COUNTED = ("luts", "flip_flops", "dsps", "brams")


@dataclass(frozen=True)
class SynthesisTask:
    key: str
    folder: str
    """The point's folder (golden.npz)."""
    preprocessing: Preprocessing
    core: bool = True
    """Also the trigger core."""


def core_maps(task: SynthesisTask) -> bool:
    """Whether the trigger core maps the point's model (its checks and its arithmetic, at the
    fewest lanes), without synthesis or simulation."""
    golden = GoldenMLP.read(Path(task.folder) / "golden.npz")
    try:
        make_core(core_model(golden, task.preprocessing), 1, 2)
    except ValueError:
        return False
    return True


def synthesize_point(task: SynthesisTask) -> dict:
    """``unrolled_*`` and (with ``core``) ``core_*`` resources; the core's lanes."""
    start = time.perf_counter()
    golden = GoldenMLP.read(Path(task.folder) / "golden.npz")
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="uvhunt-sweep-") as tmp:
        comb = trace_network(golden, task.preprocessing.peak_input)
        design = generate_rtl(golden, comb, Path(tmp) / "rtl", RtlConfig())
        counts = synthesize(design, Path(tmp) / "rtl_synth")
        out.update({f"unrolled_{k}": counts.get(k) for k in COUNTED})
        if task.core:
            try:  # the core maps some models only (weights of at most 6 bits, DSP packing)
                model = core_model(golden, task.preprocessing)
                config = CoreConfig()
                lanes, _ = choose_lanes(model, config)
                core = make_core(model, config.pixels, lanes)
            except ValueError as exc:
                out["core_error"] = f"the trigger core cannot map this model: {exc}"
            else:
                work = Path(tmp) / "core"
                write_core(core, work, {"lanes": lanes})
                counts = run_synthesis(SYNTHESIS_READ, CORE_TOP, work)
                out.update({f"core_{k}": counts.get(k) for k in COUNTED})
                out["core_lanes"] = lanes
    out["synthesis_seconds"] = round(time.perf_counter() - start, 1)
    return out
