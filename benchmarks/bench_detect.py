"""Benchmark of issue 6: `uvhunt detect` on one hour of D3 data (87,890 frames) with the
default exported model — every pixel's sliding windows scored with the golden model.

Floors: at most 300 s and at most 2 GiB peak memory on the 2-core reference machine.
Run ``uvhunt run`` first (for runs/default/export), then
``python benchmarks/bench_detect.py [--export runs/default/export] [--stack] [--json]``. It
simulates the hour first (not timed) and runs detect in a child process, whose peak memory is
measured. ``--stack`` runs the track stack trigger ORed with the peak gate too (``detect
--stack``), under the same floors. Exits 1 if a floor is missed.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from uvhunt.console import quality_sentence
from uvhunt.euso.meteors import MeteorConfig
from uvhunt.euso.session import SessionConfig, SessionSimulator
from uvhunt.euso.store import write_session
from uvhunt.euso.timing import FRAMES_PER_HOUR

MAX_SECONDS = 300.0
MAX_PEAK_GIB = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--export", type=Path, default=Path("runs/default/export"))
    parser.add_argument("--frames", type=int, default=FRAMES_PER_HOUR)
    parser.add_argument(
        "--stack", action="store_true", help="also the track stack trigger (detect --stack)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (args.export / "golden.npz").is_file():
        print(f"{args.export}: no exported model; run `uvhunt run` first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        movie = Path(tmp) / "hour"
        write_session(
            SessionSimulator(SessionConfig(frames=args.frames, meteors=MeteorConfig()), 1), movie
        )
        start = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "uvhunt.cli",
                "detect",
                str(movie),
                "--export",
                str(args.export),
                "--out",
                str(Path(tmp) / "det"),
                "--json",
                "--quiet",
                *(["--stack"] if args.stack else []),
            ],
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 2
        summary = json.loads(done.stdout)
    peak_gib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    full = args.frames >= FRAMES_PER_HOUR
    result = {
        "frames": args.frames,
        "windows": summary["threshold"]["windows"],
        "seconds": round(seconds, 1),
        "scoring_seconds": summary["seconds"]["scoring"],
        "peak_memory_gib": round(peak_gib, 2),
        "events": summary["events"],
        "truth": summary["truth"],
        "stack": summary["stack"],
        "pass": (not full) or (seconds <= MAX_SECONDS and peak_gib <= MAX_PEAK_GIB),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{args.frames:,} frames, {result['windows']:,} windows in {seconds:.1f} s "
            f"(scoring {result['scoring_seconds']} s), peak memory {peak_gib:.2f} GiB, "
            f"{result['events']} events"
        )
        if args.stack:
            stack = summary["stack"]
            print(
                f"track stack or gate: {stack['events']} events; "
                + ("" if stack["quality"] is None else quality_sentence(stack["quality"]))
            )
        print(
            f"floors: <= {MAX_SECONDS:.0f} s, <= {MAX_PEAK_GIB} GiB: "
            f"{'PASS' if result['pass'] else 'FAIL'}"
        )
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
