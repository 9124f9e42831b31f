"""Benchmark of issue 4: `uvhunt firmware` for the default model — hls4ml project, C-sim
build and comparison with the golden model.

Floors: completes in at most 120 s on the 2-core reference machine; the C simulation equals
the golden model on at least 100,000 vectors, 100%.
Run ``uvhunt run`` first, then ``python benchmarks/bench_firmware.py [--run runs/default]``.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from uvhunt.console import warnings_off
from uvhunt.stages import run_named

MAX_SECONDS = 120.0
MIN_VECTORS = 100_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", type=Path, default=Path("runs/default"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (args.run / "export" / "model.onnx").is_file():
        print(f"{args.run}: no exported model; run `uvhunt run` first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        summary = run_named(
            "firmware",
            export=args.run / "export",
            model=args.run / "model",
            windows=args.run / "windows",
            out=Path(tmp) / "fw",
        )
        seconds = time.perf_counter() - start
    mismatches = sum(r["mismatches"] for r in summary["csim_vs_golden"])
    result = {
        "seconds": round(seconds, 1),
        "vectors": summary["vectors_compared"],
        "mismatches": mismatches,
        "accuracy": summary["accuracy"],
        "floors": {
            f"<= {MAX_SECONDS:.0f} s": seconds <= MAX_SECONDS,
            f">= {MIN_VECTORS:,} vectors, 0 mismatches": summary["vectors_compared"] >= MIN_VECTORS
            and mismatches == 0,
        },
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        a = summary["accuracy"]
        print(
            f"firmware stage in {seconds:.1f} s: {result['vectors']:,} vectors, "
            f"{mismatches} mismatches; AUC float {a['float_auc']:.4f}, "
            f"C-sim {a['csim_auc']:.4f}"
        )
        for name, ok in result["floors"].items():
            print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    return 0 if all(result["floors"].values()) else 1


if __name__ == "__main__":
    with warnings_off():  # the libraries' warnings, in workers too: not our output
        sys.exit(main())
