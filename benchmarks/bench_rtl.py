"""Benchmark of issue 5: the default model as RTL — generation, Verilator build and cocotb
co-simulation, Yosys synthesis.

Floors (2-core reference machine): Verilator build <= 180 s; simulation >= 10,000 vectors/s
(back to back, one vector per clock, every output checked); Yosys <= 180 s; every output equal
to the golden model. Aim (reported, not a floor): at most 10% of the XC7Z030's LUTs (7,860) and
no DSPs.

Run ``uvhunt run`` first (or train + export), then
``python benchmarks/bench_rtl.py [--run runs/default] [--vectors 100000] [--json]``.
Exits 1 if a floor is missed.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from uvhunt.console import warnings_off
from uvhunt.hls.parts import PARTS
from uvhunt.stages import run_named

MAX_BUILD_SECONDS = 180.0
MIN_VECTORS_PER_SECOND = 10_000
MAX_YOSYS_SECONDS = 180.0
AIM_LUTS = PARTS["xc7z030ffg676-2"].luts // 10


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", type=Path, default=Path("runs/default"))
    parser.add_argument("--vectors", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (args.run / "export" / "model.onnx").is_file():
        print(f"{args.run}: no exported model; run `uvhunt run` first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        rtl = run_named("rtl", export=args.run / "export", out=tmp / "rtl")
        generated = time.perf_counter() - start
        cosim = run_named(
            "cosim",
            rtl=tmp / "rtl",
            model=args.run / "model",
            windows=args.run / "windows",
            out=tmp / "cosim",
            vectors=args.vectors,
            quiet=args.json,
        )
        res = run_named("resources", rtl=tmp / "rtl", out=tmp / "resources", quiet=args.json)
    y = res["yosys"]
    result = {
        "rtl_seconds": round(generated, 1),
        "estimate": rtl["design"]["estimate"],
        "latency": rtl["design"]["latency"],
        "verilator_build_seconds": cosim["build_seconds"],
        "vectors": cosim["vectors"],
        "outputs_compared": cosim["outputs_compared"],
        "mismatches": cosim["mismatches"],
        "vectors_per_second": round(cosim["simulation_vectors_per_second"]),
        "accuracy": cosim["accuracy"],
        "yosys_seconds": y["seconds"],
        "yosys": {k: y[k] for k in ("luts", "flip_flops", "carry4", "dsps", "brams")},
        "real_time": res["real_time"],
        "floors": {
            f"Verilator build <= {MAX_BUILD_SECONDS:.0f} s": cosim["build_seconds"]
            <= MAX_BUILD_SECONDS,
            f">= {MIN_VECTORS_PER_SECOND:,} vectors/s": cosim["simulation_vectors_per_second"]
            >= MIN_VECTORS_PER_SECOND,
            f"Yosys <= {MAX_YOSYS_SECONDS:.0f} s": y["seconds"] <= MAX_YOSYS_SECONDS,
            "RTL = golden on every output": cosim["mismatches"] == 0,
        },
        "aim": {
            f"<= {AIM_LUTS:,} LUTs": y["luts"] <= AIM_LUTS,
            "no DSPs": y["dsps"] == 0,
            "luts_over_aim": y["luts"] - AIM_LUTS,
        },
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        a = cosim["accuracy"]
        print(
            f"RTL: {result['latency']} cycles latency; Verilator build "
            f"{result['verilator_build_seconds']} s; {result['vectors']:,} vectors at "
            f"{result['vectors_per_second']:,}/s, {result['outputs_compared']:,} outputs "
            f"compared, {result['mismatches']} mismatches"
        )
        print(
            f"Yosys {y['seconds']} s: {y['luts']:,} LUTs (da4ml estimate "
            f"{result['estimate']['luts']:,.0f}), {y['flip_flops']:,} FFs, {y['carry4']:,} "
            f"CARRY4, {y['dsps']} DSPs; AUC float {a['float_auc']:.4f}, RTL {a['rtl_auc']:.4f}"
        )
        for name, ok in result["floors"].items():
            print(f"  {'PASS' if ok else 'FAIL'}  {name}")
        for name, ok in result["aim"].items():
            if name != "luts_over_aim":
                print(f"  {'met ' if ok else 'MISS'}  aim: {name}")
    return 0 if all(result["floors"].values()) else 1


if __name__ == "__main__":
    with warnings_off():  # the libraries' warnings, in workers too: not our output
        sys.exit(main())
