"""Benchmark of issue 3: default `train` + `evaluate` + `export` on a window data set.

Floors: train + evaluate <= 600 s on the 2-core reference machine; mean quantization loss
(float − QAT ROC AUC over the held-out sessions) <= 0.005; golden model >= 1,000,000
vectors/s; brevitas = QONNX = golden on every vector. Aim (reported, not a floor): the QAT
MLP's mean AUC within 0.005 of the best baseline, or above it.

Run ``uvhunt run`` first (or ``uvhunt simulate`` + ``uvhunt windows``), then
``python benchmarks/bench_quant.py [--windows runs/default/windows] [--json]``.
Exits 1 if a floor is missed.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from uvhunt.console import warnings_off
from uvhunt.stages import run_named

MAX_SECONDS = 600.0
MAX_LOSS = 0.005
MIN_GOLDEN_PER_SECOND = 1_000_000
AIM_MARGIN = 0.005


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--windows", type=Path, default=Path("runs/default/windows"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (args.windows / "dataset.json").is_file():
        print(f"{args.windows}: no window data set; run `uvhunt run` first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        model = Path(tmp) / "model"
        run_named("train", windows=args.windows, out=model)
        trained = time.perf_counter() - start
        evaluation = run_named(
            "evaluate", windows=args.windows, model=model, out=Path(tmp) / "eval"
        )
        seconds = time.perf_counter() - start
        exported = run_named("export", model=model, windows=args.windows, out=Path(tmp) / "export")
    loss = evaluation["quantization_loss"]["mean"]
    mismatches = sum(r["brevitas_mismatches"] + r["qonnx_mismatches"] for r in exported["chain"])
    result = {
        "train_seconds": round(trained, 1),
        "train_evaluate_seconds": round(seconds, 1),
        "mean_auc": evaluation["mean_auc"],
        "quantization_loss": evaluation["quantization_loss"],
        "best_baseline": evaluation["best_baseline"],
        "qat_minus_best_baseline": evaluation["qat_minus_best_baseline"],
        "chain_vectors": exported["vectors_compared"],
        "chain_mismatches": mismatches,
        "golden_vectors_per_second": exported["golden_vectors_per_second"],
    }
    floors = {
        f"train + evaluate <= {MAX_SECONDS:.0f} s": seconds <= MAX_SECONDS,
        f"mean quantization loss <= {MAX_LOSS}": loss <= MAX_LOSS,
        "golden >= 1,000,000 vectors/s": exported["golden_vectors_per_second"]
        >= MIN_GOLDEN_PER_SECOND,
        "brevitas = QONNX = golden on every vector": mismatches == 0,
    }
    result["floors"] = floors
    result["aim_met"] = evaluation["qat_minus_best_baseline"] >= -AIM_MARGIN
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"train {trained:.0f} s, train + evaluate {seconds:.0f} s")
        print(
            f"mean ROC AUC: float {evaluation['mean_auc']['float_mlp']:.4f}, "
            f"QAT {evaluation['mean_auc']['qat_mlp']:.4f}, best baseline "
            f"{evaluation['best_baseline']['method']} "
            f"{evaluation['best_baseline']['mean_auc']:.4f}"
        )
        print(
            f"quantization loss {loss:+.4f}; QAT − best baseline "
            f"{evaluation['qat_minus_best_baseline']:+.4f} (aim >= -{AIM_MARGIN}: "
            f"{'met' if result['aim_met'] else 'missed'})"
        )
        print(
            f"chain: {exported['vectors_compared']:,} vectors, {mismatches} mismatches; "
            f"golden {exported['golden_vectors_per_second']:,} vectors/s"
        )
        for name, ok in floors.items():
            print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    return 0 if all(floors.values()) else 1


if __name__ == "__main__":
    with warnings_off():  # the libraries' warnings, in workers too: not our output
        sys.exit(main())
