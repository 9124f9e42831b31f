"""Benchmark of issue 13: the archive scan's throughput on Dask, 1 worker against 2.

Scans the default run's sessions (or --archive: a folder or glob of movies) with
``uvhunt detect ARCHIVE`` on a local cluster of 1 and then 2 workers (or on --scheduler), at
the export's stored threshold, and reports D3 frames per second of each (the scan itself,
after the cluster has started) and the speed-up. The merged event tables of the two must be
equal. Run ``uvhunt run`` first, then ``python benchmarks/bench_scan.py [--json]``. Exits 1
if the tables differ.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

from uvhunt.console import warnings_off
from uvhunt.stages import run_named


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--archive", default="runs/default/sessions")
    p.add_argument("--export", type=Path, default=Path("runs/default/export"))
    p.add_argument("--workers", default="1,2", help="local cluster sizes to compare")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    results, tables = {}, []
    with tempfile.TemporaryDirectory(prefix="bench-scan-") as tmp:
        for n in (int(w) for w in args.workers.split(",")):
            out = Path(tmp) / f"scan_{n}"
            s = run_named(
                "detect", movie=args.archive, export=args.export, out=out, workers=n, pictures=0
            )
            results[n] = {
                "movies": s["movies"],
                "frames": s["frames"],
                "events": s["events"],
                "scan_seconds": s["seconds"]["scan"],
                "total_seconds": s["seconds"]["total"],
                "frames_per_second": s["frames_per_second"],
            }
            tables.append((out / "events.csv").read_text())
    first = min(results)
    for r in results.values():
        r["speedup"] = r["frames_per_second"] / results[first]["frames_per_second"]
    same = all(t == tables[0] for t in tables)
    if args.json:
        print(json.dumps({"workers": results, "tables_equal": same}, indent=1))
    else:
        for n, r in results.items():
            print(
                f"{n} worker(s): {r['movies']} movies, {r['frames']:,} frames in "
                f"{r['scan_seconds']} s: {r['frames_per_second']:,.0f} frames/s "
                f"(×{r['speedup']:.2f}), {r['events']} events"
            )
        print(f"merged event tables equal: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    with warnings_off():  # the libraries' warnings, in workers too: not our output
        sys.exit(main())
