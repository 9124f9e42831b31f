"""Benchmark: integer golden model throughput on 1,000,000 random input vectors.

Floor (issue 3): at least 1,000,000 vectors/s on the 2-core reference machine for the default
ModelConfig (48 → 32 → 16 → 1, 8-bit inputs, 6-bit weights and activations).
Run: ``python benchmarks/bench_golden.py [--model model.onnx] [--vectors N] [--json]``.
Without ``--model`` a default-config QAT model is calibrated on random inputs and exported.
Exits 1 if the floor is missed.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FLOOR = 1_000_000
"""Vectors per second."""


def default_model(folder: Path, seed: int) -> Path:
    import torch

    from uvhunt.quant.config import ModelConfig
    from uvhunt.quant.models import QuantMLP
    from uvhunt.quant.qonnx_io import export_qonnx_model

    config = ModelConfig().validate()
    torch.manual_seed(seed)
    model = QuantMLP(config)
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randint(-128, 128, (2048, config.length)).float())
    return export_qonnx_model(model, config, folder / "model.onnx")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, help="a QONNX file from `uvhunt export`")
    parser.add_argument("--vectors", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from uvhunt.quant.golden import GoldenMLP

    with tempfile.TemporaryDirectory() as tmp:
        path = args.model or default_model(Path(tmp), args.seed)
        golden = GoldenMLP.from_qonnx(path)
    t0 = time.perf_counter()
    golden.compile()
    compile_seconds = time.perf_counter() - t0
    spec = golden.input_quant
    rng = np.random.default_rng(args.seed)
    q = rng.integers(spec.low, spec.high + 1, (args.vectors, golden.sizes[0]), dtype=np.int32)
    golden.predict(q[:1000])  # warm up
    seconds = []
    for _ in range(max(1, args.repeats)):
        t0 = time.perf_counter()
        logits = golden.predict(q)
        seconds.append(time.perf_counter() - t0)
    sample = q[:10_000]
    exact = bool(
        np.array_equal(golden.predict_int(sample), golden.trace(sample)["accumulators"][-1][:, 0])
    )
    median = statistics.median(seconds)
    rate = args.vectors / median
    result = {
        "model": str(args.model) if args.model else "default ModelConfig (random weights)",
        "sizes": golden.sizes,
        "vectors": args.vectors,
        "compute_dtype": np.dtype(golden.dtype).name,
        "compile_seconds": round(compile_seconds, 4),
        "seconds_median": round(median, 4),
        "seconds_all": [round(s, 4) for s in seconds],
        "vectors_per_second": round(rate),
        "floor_vectors_per_second": FLOOR,
        "fast_path_equals_int64_trace": exact,
        "logit_checksum": float(np.sum(logits)),
        "pass": bool(rate >= FLOOR and exact),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"golden model {'-'.join(map(str, golden.sizes))} ({result['compute_dtype']}): "
            f"{args.vectors:,} vectors in {median:.3f} s (median of {len(seconds)}) = "
            f"{rate:,.0f} vectors/s; fast path = int64 trace: {exact}"
        )
        print(f"floor: >= {FLOOR:,} vectors/s: {'PASS' if result['pass'] else 'FAIL'}")
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
