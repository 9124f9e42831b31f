"""Benchmark of issue 14: the single-event-upset campaign on the default trigger core.

The default run's exported model in the trigger core as ``uvhunt core`` builds it (the lanes
chosen for 2,304 pixels at 100 MHz), here with ``--pixels`` pixels (the per-pixel storage,
the arithmetic and the control are the full core's; the history holds fewer pixels), and
``--faults`` bit flips in each fault place (weight ROM, history, datapath, control, mask),
one Verilator trial each through cocotb (``firmware_tests/seu_tests.py``). Run ``uvhunt run``
first (or give --run), then ``python benchmarks/bench_seu.py [--faults 1000] [--json]``.

Floors (issue 14): under the default mitigation, 0 silent corruptions and 0 hangs among
faults in the weight ROM, the history and the control state. Exits 1 if a floor is missed.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

from uvhunt._core.simulators import find_simulator
from uvhunt.console import table
from uvhunt.firmware_tests.seu_plan import PLACES
from uvhunt.hls.core_build import CoreConfig, choose_lanes, core_model
from uvhunt.quant.golden import read_export
from uvhunt.stages.core import _stream
from uvhunt.stages.core_seu import run_campaign

GUARDED = ("weight_rom", "history", "control")
"""Places whose faults the default mitigation must correct or flag, every one."""


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", type=Path, default=Path("runs/default"))
    p.add_argument("--faults", type=int, default=1000, help="faults per place")
    p.add_argument("--pixels", type=int, default=2)
    p.add_argument("--frames-after", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    golden, model_config = read_export(args.run / "export")
    model = core_model(golden, model_config.preprocessing)
    lanes, per_pixel = choose_lanes(model, CoreConfig())
    raw = _stream(args.run / "sessions" / "session_00", args.pixels, 48 + 1 + args.frames_after)
    with tempfile.TemporaryDirectory(prefix="uvhunt-seu-") as tmp:
        simulator = find_simulator("verilator", Path(tmp) / "bin")
        result = run_campaign(
            golden,
            model_config.preprocessing,
            model,
            lanes,
            per_pixel,
            raw,
            simulator,
            Path(tmp) / "seu",
            args.faults,
            args.pixels,
            args.frames_after,
            args.seed,
            PLACES,
        )
    result.pop("outcomes_file")
    levels = {"none": {"mitigation": "none", **result}}
    default = levels["none"]  # no mitigation is built yet: the default level is none
    missed = {
        place: {k: default["places"][place][k] for k in ("silent", "hang")}
        for place in GUARDED
        if default["places"][place]["silent"] or default["places"][place]["hang"]
    }
    summary = {"lanes": lanes, "levels": levels, "default": "none", "floors_missed": missed}
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        rows = [
            [level, place, c["injected"], c["masked"], c["corrected"], c["detected"]]
            + [c["silent"], c["hang"], f"{c['silent_rate']:.1%}", c["trigger_changed"]]
            for level, found in levels.items()
            for place, c in found["places"].items()
        ]
        head = ["level", "place", "injected", "masked", "corrected", "detected", "silent"]
        print(table(rows, [*head, "hang", "silent rate", "trigger changed"]))
        print(
            f"{args.pixels}-pixel core, {lanes} lanes, {per_pixel:,} clocks per pixel; "
            f"{result['seconds']} s; floors missed: {missed or 'none'}"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
