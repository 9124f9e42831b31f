"""Benchmark of issue 14: the single-event-upset campaign on the default trigger core.

The default run's exported model in the trigger core as ``uvhunt core`` builds it (the lanes
chosen for 2,304 pixels at 100 MHz), here with ``--pixels`` pixels (the per-pixel storage,
the arithmetic and the control are the full core's; the history holds fewer pixels), and
``--faults`` bit flips in each fault place (weight ROM, history, datapath, control, mask),
one Verilator trial each through cocotb (``firmware_tests/seu_tests.py``). Run ``uvhunt run``
first (or give --run), then ``python benchmarks/bench_seu.py [--faults 1000] [--json]``.

Every mitigation level (``--levels``; the unprotected core ``none`` and the default always)
is run, and each is priced at full size (2,304 pixels, Yosys). Floors (issue 14): under the
default mitigation, 0 silent corruptions and 0 hangs among faults in the weight ROM, the
history and the control state, at most +25% LUTs over the unprotected core. Exits 1 if a
floor is missed.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

from uvhunt._core.simulators import find_simulator
from uvhunt.console import table
from uvhunt.firmware_tests.seu_plan import PLACES
from uvhunt.hls.core_build import (
    DEFAULT_MITIGATION,
    MITIGATIONS,
    CoreConfig,
    choose_lanes,
    core_model,
)
from uvhunt.quant.golden import read_export
from uvhunt.stages.core import _stream
from uvhunt.stages.core_seu import core_price, run_levels

GUARDED = ("weight_rom", "history", "control")
"""Places whose faults the default mitigation must correct or flag, every one."""
MAX_EXTRA_LUTS = 0.25
"""The default mitigation's LUTs over the unprotected core's, at most."""


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", type=Path, default=Path("runs/default"))
    p.add_argument("--faults", type=int, default=1000, help="faults per place")
    p.add_argument("--pixels", type=int, default=2)
    p.add_argument("--frames-after", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--levels", default=",".join(MITIGATIONS), help="mitigation levels, comma-separated"
    )
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    chosen = [level.strip() for level in args.levels.split(",") if level.strip()]
    golden, model_config = read_export(args.run / "export")
    model = core_model(golden, model_config.preprocessing)
    config = CoreConfig()
    lanes, per_pixel = choose_lanes(model, config)
    raw = _stream(args.run / "sessions" / "session_00", args.pixels, 48 + 1 + args.frames_after)
    with tempfile.TemporaryDirectory(prefix="uvhunt-seu-") as tmp:
        levels = run_levels(
            [*chosen, DEFAULT_MITIGATION],
            Path(tmp) / "seu",
            lambda level: print(
                f"{level}: {args.faults} faults per place ...", file=sys.stderr, flush=True
            ),
            golden=golden,
            preprocessing=model_config.preprocessing,
            model=model,
            lanes=lanes,
            cycles_per_pixel=per_pixel,
            raw=raw,
            simulator=find_simulator("verilator", Path(tmp) / "bin"),
            per_place=args.faults,
            pixels=args.pixels,
            frames_after=args.frames_after,
            seed=args.seed,
            places=PLACES,
        )
        for level, result in levels.items():
            result.pop("outcomes_file")
            work = Path(tmp) / f"{level}_synth"  # the full core's price (2,304 pixels)
            result["price"] = core_price(model, config.pixels, lanes, level, work)
    none, default = levels["none"], levels[DEFAULT_MITIGATION]
    extra = default["price"]["luts"] / none["price"]["luts"] - 1
    missed = {
        place: {k: default["places"][place][k] for k in ("silent", "hang")}
        for place in GUARDED
        if default["places"][place]["silent"] or default["places"][place]["hang"]
    }
    if extra > MAX_EXTRA_LUTS:
        missed["price"] = f"{extra:+.1%} LUTs (at most {MAX_EXTRA_LUTS:+.0%})"
    summary = {
        "lanes": lanes,
        "levels": levels,
        "default": DEFAULT_MITIGATION,
        "extra_luts": extra,
        "floors_missed": missed,
    }
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
        for level, found in levels.items():
            print(f"{level}: {found['price']} ({found['seconds']} s)")
        print(
            f"{args.pixels}-pixel campaign core, {lanes} lanes, {per_pixel:,} clocks per pixel; "
            f"{DEFAULT_MITIGATION} costs {extra:+.1%} LUTs; floors missed: {missed or 'none'}"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
