"""The core stage's single-event-upset campaign: the same model in a core of a few pixels
(the storage per pixel, the arithmetic and the control are those of the full core; only the
history is shorter), a seeded plan of bit flips in each fault place, one cocotb trial per
fault in Verilator (``firmware_tests/seu_tests.py``), and the outcomes counted per place."""

import json
import shutil
import time
from pathlib import Path

import numpy as np

from uvhunt._core.simulators import Simulator
from uvhunt.firmware_tests.core_reference import GATE_NEVER, CoreReference
from uvhunt.firmware_tests.core_testbench import CLOCK_NS, PACKED_OUTPUTS
from uvhunt.firmware_tests.seu_plan import (
    PLACES,
    READ_ONLY,
    Fault,
    find_targets,
    plan_faults,
    tally,
)
from uvhunt.hls.core_build import SYNTHESIS_READ, make_core, write_core
from uvhunt.hls.netlist import logic_levels
from uvhunt.hls.resources import run_synthesis
from uvhunt.hls.trigger_core import TOP
from uvhunt.quant.golden import GoldenMLP
from uvhunt.quant.preprocess import Preprocessing
from uvhunt.sim.runner import run_cocotb

TEST_MODULE = "uvhunt.firmware_tests.seu_tests"


def run_levels(levels: list[str], folder: Path, announce=None, **campaign) -> dict[str, dict]:
    """``run_campaign`` at each mitigation level (the unprotected core ``none`` first, each
    level once), each in ``folder/<level>`` without its simulator build; ``campaign``:
    ``run_campaign``'s other arguments by name; ``announce(level)`` before each."""
    out = {}
    for level in dict.fromkeys(["none", *levels]):
        if announce is not None:
            announce(level)
        work = Path(folder) / level
        out[level] = run_campaign(work=work, mitigation=level, **campaign)
        out[level]["outcomes_file"] = f"{Path(folder).name}/{level}/outcomes.json"
        shutil.rmtree(work / "build", ignore_errors=True)
    return out


def core_price(model: dict, pixels: int, lanes: int, mitigation: str, work: Path) -> dict:
    """LUTs, flip-flops, BRAM36 and LUT levels of the core at a mitigation level (Yosys
    ``synth_xilinx``, in ``work``, which is removed)."""
    write_core(make_core(model, pixels, lanes, mitigation=mitigation), work, {})
    synthesis = run_synthesis(SYNTHESIS_READ, TOP, work, netlist=True)
    levels = logic_levels(work / "netlist.json", TOP)
    shutil.rmtree(work, ignore_errors=True)
    return {
        "luts": synthesis["luts"],
        "flip_flops": synthesis["flip_flops"],
        "bram36": synthesis["ramb36"] + synthesis["ramb18"] / 2,
        "logic_levels": levels,
    }


def run_campaign(
    golden: GoldenMLP,
    preprocessing: Preprocessing,
    model: dict,
    lanes: int,
    cycles_per_pixel: int,
    raw: np.ndarray,
    simulator: Simulator,
    work: Path,
    per_place: int,
    pixels: int,
    frames_after: int,
    seed: int,
    places: tuple[str, ...] = PLACES,
    faults: list[Fault] | None = None,
    mitigation: str = "none",
    refill: bool = False,
) -> dict:
    """``per_place`` faults in each of ``places`` of a ``pixels``-pixel core, injected in the
    first frame with full windows; ``frames_after`` frames (after that one) observed.
    ``raw``: (frames, pixels) counts per GTU summed over the D3 frame, at least
    ``length + 1 + frames_after`` frames of ``pixels`` pixels. The network's and the peak
    gate's thresholds are the medians of the stream's own scores and codes, so that trigger
    bits go both ways (the gate's low threshold: never). ``faults``: the faults to inject
    instead of a seeded plan; ``mitigation``: the core's level (``hls.core_build.MITIGATIONS``);
    ``refill``: each trial streams the frames before the injection frame again instead of
    starting from their end state, simulated once (the same outcomes, each trial simulating
    those frames too).
    Returns the counts per place and how the campaign ran."""
    length = model["sizes"][0]
    frames = length + 1 + frames_after
    if raw.shape[0] < frames or raw.shape[1] < pixels:
        raise ValueError(f"the campaign needs {frames} frames of {pixels} pixels")
    work = Path(work)
    raw = np.asarray(raw[:frames, :pixels], np.int64)
    reference = CoreReference(golden, preprocessing)
    threshold = int(np.median(reference.scores(raw)[length - 1 :]))
    codes = reference.gate_parts(raw)[3][length - 1 :]
    gate_threshold = int(np.median(codes[codes >= 0])) if (codes >= 0).any() else 0
    core = make_core(model, pixels, lanes, mitigation=mitigation)
    description = {"pixels": pixels, "lanes": lanes, "preprocessing": preprocessing.to_dict()}
    write_core(core, work, {**description, "mitigation": mitigation})
    golden.write(work / "golden.npz")
    targets = find_targets((work / f"{TOP}.v").read_text())
    if faults is None:
        faults = plan_faults(targets, per_place, pixels, cycles_per_pixel, seed, places)
    campaign = {
        "raw": raw.tolist(),
        "thresholds": [int(threshold)] * frames,
        "gate_thresholds": [int(gate_threshold)] * frames,
        "gate_low_thresholds": [GATE_NEVER] * frames,  # the gate's second bit never fires
        "inject_frame": length,
        "cycles_per_pixel": int(cycles_per_pixel),
        "faults": [f.to_dict() for f in faults],
        "state": [t.name for t in targets if t.name not in READ_ONLY],
        "refill": refill,
    }
    (work / "campaign.json").write_text(json.dumps(campaign))
    start = time.perf_counter()
    run = run_cocotb(
        [work / f"{TOP}.v"],
        TOP,
        TEST_MODULE,
        ("seu_campaign",),
        simulator,
        work,
        {
            "UVHUNT_GOLDEN": str((work / "golden.npz").resolve()),
            "UVHUNT_CORE": str((work / "core.json").resolve()),
            "UVHUNT_SEU": str((work / "campaign.json").resolve()),
        },
        long_run=True,
        clock=("clk", CLOCK_NS),
        packed=PACKED_OUTPUTS,
    )
    found = run.results / "seu.json"
    if not found.is_file():
        raise RuntimeError(f"the SEU campaign wrote no results; its log: {run.log}")
    outcomes = json.loads(found.read_text())["outcomes"]
    (work / "outcomes.json").write_text(json.dumps(outcomes, indent=1))
    if len(outcomes) != len(faults):
        raise RuntimeError(f"the SEU campaign ran {len(outcomes)} of {len(faults)} faults")
    return {
        "mitigation": mitigation,
        "pixels": pixels,
        "faults_per_place": per_place,
        "frames": frames,
        "inject_frame": length,
        "seed": seed,
        "threshold": threshold,
        "gate_threshold": gate_threshold,
        "bits": {p: sum(t.bits for t in targets if t.place == p) for p in places},
        "places": tally(outcomes),
        "seconds": round(time.perf_counter() - start, 1),
        "outcomes_file": "seu/outcomes.json",
    }
