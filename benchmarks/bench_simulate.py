"""Benchmark: simulate one hour of D3 data (87,890 frames) and write it to disk.

Floors (issue 2): at most 60 s and at most 2 GiB peak memory on the 2-core reference machine.
Run: ``python benchmarks/bench_simulate.py [--frames N] [--json]``. Exits 1 if a floor is missed.
"""

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from uvhunt.euso.meteors import MeteorConfig
from uvhunt.euso.session import SessionConfig, SessionSimulator
from uvhunt.euso.store import write_session
from uvhunt.euso.timing import FRAMES_PER_HOUR

MAX_SECONDS = 60.0
MAX_PEAK_GIB = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=FRAMES_PER_HOUR)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    config = SessionConfig(frames=args.frames, meteors=MeteorConfig())
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        sim = SessionSimulator(config, args.seed)
        meta = write_session(sim, Path(tmp) / "hour")
        seconds = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in (Path(tmp) / "hour").iterdir())
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    result = {
        "frames": args.frames,
        "seconds": round(seconds, 2),
        "frames_per_second": round(args.frames / seconds),
        "peak_memory_gib": round(peak_gib, 3),
        "written_mib": round(size / 2**20, 1),
        "events": meta["event_counts"],
        "conditions": meta["conditions"],
    }
    full_hour = args.frames >= FRAMES_PER_HOUR
    result["pass"] = (not full_hour) or (seconds <= MAX_SECONDS and peak_gib <= MAX_PEAK_GIB)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{args.frames:,} frames in {seconds:.1f} s ({result['frames_per_second']:,} "
            f"frames/s), peak memory {peak_gib:.2f} GiB, {result['written_mib']} MiB written"
        )
        print(
            f"floors: <= {MAX_SECONDS:.0f} s, <= {MAX_PEAK_GIB} GiB: "
            f"{'PASS' if result['pass'] else 'FAIL'}"
            + ("" if full_hour else " (not a full hour: floors not applied)")
        )
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
