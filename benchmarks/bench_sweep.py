"""Benchmark of issue 13: the design-space sweep on the default run's window data set.

Runs ``uvhunt sweep`` (Optuna's TPE over hidden sizes, per-layer weight bits, pruning and the
resource penalty; three leave-k-sessions-out folds; Yosys for the points on or near the
front) on a local Dask cluster, and checks the issue's two floors on the synthesized
(Yosys) LUTs of the unrolled design:

- a point within 7,860 LUTs (10% of the XC7Z030) whose QAT mean AUC is at least the default
  model's (64-32, 5-bit weights, evaluated in the same sweep on the same folds) with a
  quantization loss of at most 0.005;
- at the LUTs of the uniform 16-8 4-bit design (also evaluated in the sweep), a front point
  at least 0.01 AUC above it.

The space holds designs without and with the peak input (the unrolled design then computes
the peak itself, and its LUTs count that circuit); the references are without it, as today's
default is. ``--enqueue`` names designs evaluated first, after the references;
``--space-input-bits 8,6`` adds 6-bit inputs to the space (``i6`` in a design's name);
``--seeds 3`` trains every point at three seeds and judges the floors on the means.

It reports points per hour on this machine. Run ``uvhunt run`` first (or give --windows),
then ``python benchmarks/bench_sweep.py [--trials 32] [--workers 2] [--enqueue D,D] [--json]``.
The points are cached in ``<out>-cache``: running it again resumes. Exits 1 if a floor is missed.
"""

import argparse
import json
import sys
from pathlib import Path

from uvhunt.console import progress_bars, warnings_off
from uvhunt.stages import run_named
from uvhunt.stages.sweep import render


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--windows", type=Path, default=Path("runs/default/windows"))
    p.add_argument("--out", type=Path, default=Path("runs/bench_sweep"))
    p.add_argument("--trials", type=int, default=32)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument(
        "--seeds", type=int, default=1, help="training seeds per point; the floors on the means"
    )
    p.add_argument("--scheduler", default=None)
    p.add_argument("--enqueue", default="", help="designs evaluated first, comma-separated")
    p.add_argument("--space-sizes", default="4,8,16,32,64", help="hidden sizes of the space")
    p.add_argument(
        "--space-input-bits", default="8", help="input bits of the space (8: the default's)"
    )
    p.add_argument("--cache", type=Path, default=None, help="the points' cache (OUT-cache)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    summary = run_named(
        "sweep",
        progress_bars(args.json),
        windows=args.windows,
        out=args.out,
        trials=args.trials,
        workers=args.workers,
        seeds=args.seeds,
        scheduler=args.scheduler,
        enqueue=args.enqueue,
        space_sizes=args.space_sizes,
        space_input_bits=args.space_input_bits,
        cache=args.cache,
    )
    goals = summary["goals"]
    best, at = goals.get("best_within_budget"), goals.get("at_uniform_luts")
    floors = {
        "within_budget_at_least_default": bool(
            best
            and goals.get("best_minus_default") is not None
            and goals["best_minus_default"] >= 0
        ),
        "front_gain_at_uniform_luts_0.01": bool(at and at["gain"] >= 0.01),
    }
    if args.json:
        print(json.dumps({"summary": summary, "floors": floors}, indent=1, default=str))
    else:
        print(render(summary))
        print("floors: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in floors.items()))
    return 0 if all(floors.values()) else 1


if __name__ == "__main__":
    with warnings_off():  # the libraries' warnings, in workers too: not our output
        sys.exit(main())
