"""Benchmark of issue 11: the full-size streaming trigger core (2,304 pixels) of the default
exported model, co-simulated on at least 100 frames of a simulated session and synthesized.

Floors (XC7Z030, Yosys synth_xilinx): at most 1,572 LUTs (2% of the part), at most 4 DSP48,
the weight ROM in at most 2 BRAM36, the history in at most 30 BRAM36 (reported with its price
otherwise), real-time margin at least 1.5 at 100 MHz, at most 6 LUT levels between
registers; 0 mismatches on at least 120,000 windows of the streamed session, in the
Amaranth core (Verilator) and in the HLS core (g++ C simulation).

Run ``uvhunt run`` first (for runs/default/export and the sessions), then
``python benchmarks/bench_core.py [--run runs/default] [--frames 100] [--json]``.
Exits 1 if a floor is missed.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from uvhunt.console import progress_bars, warnings_off
from uvhunt.stages import run_named

FLOORS = {"luts": 1572, "dsps": 4, "bram36_weights": 2, "bram36_history": 30, "logic_levels": 6}
MIN_MARGIN = 1.5
MIN_WINDOWS = 120_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", type=Path, default=Path("runs/default"))
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    export, movie = args.run / "export", args.run / "sessions" / "session_00"
    if not (export / "golden.npz").is_file() or not movie.is_dir():
        print(f"{args.run}: no exported model or session; run `uvhunt run` first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        s = run_named(
            "core",
            progress_bars(args.json),
            export=export,
            movie=movie,
            out=Path(tmp) / "core",
            stream_frames=args.frames,
            quiet=args.json,
        )
        seconds = time.perf_counter() - start
    session = s["results"]["session_back_to_back"]
    result = {
        "seconds": round(seconds, 1),
        "pixels": s["pixels"],
        "lanes": s["lanes"],
        "history_bits": s["history_bits"],
        "session_windows": session["windows"],
        "windows_compared": s["windows_compared"],
        "mismatches": s["mismatches"],
        "verilator_build_seconds": s["build_seconds"],
        "simulated_frames_per_second": session["frames_per_second"],
        "yosys_seconds": s["yosys"]["seconds"],
        "resources": {k: s[k] for k in ("luts", "flip_flops", "dsps", "bram36")}
        | {k: s[k] for k in FLOORS if k not in ("luts", "dsps")},
        "hls_core": {
            k: s["hls"][k]
            for k in (
                "reuse_factors",
                "pixel_interval_clocks",
                "real_time_margin",
                "frames_streamed",
                "windows_compared",
                "mismatches",
                "compile_seconds",
                "csim_frames_per_second",
            )
        },
        "cycles_per_frame": s["cycles_per_frame"],
        "cycles_available": s["cycles_available"],
        "real_time_margin": round(s["real_time_margin"], 3),
        "floors": {
            **{f"{k} <= {v}": s[k] <= v for k, v in FLOORS.items()},
            f"real-time margin >= {MIN_MARGIN}": s["real_time_margin"] >= MIN_MARGIN,
            f">= {MIN_WINDOWS:,} session windows, 0 mismatches": session["windows"] >= MIN_WINDOWS
            and s["mismatches"] == 0,
            f"HLS core: >= {MIN_WINDOWS:,} windows, 0 mismatches": s["hls"]["windows_compared"]
            >= MIN_WINDOWS
            and s["hls"]["mismatches"] == 0,
        },
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        r = result["resources"]
        print(
            f"trigger core, {s['pixels']:,} pixels, {s['lanes']} lanes, history "
            f"{s['history_bits']} bits: {r['luts']:,} LUTs, {r['flip_flops']:,} FFs, "
            f"{r['dsps']} DSP48, {r['bram36']:g} BRAM36 (history {s['bram36_history']:g}, "
            f"weights {s['bram36_weights']:g}), {s['logic_levels']} LUT levels"
        )
        print(
            f"{s['cycles_per_frame']:,} cycles per frame of {s['cycles_available']:,}: margin "
            f"{s['real_time_margin']:.2f}; {session['windows']:,} session windows "
            f"({s['windows_compared']:,} in all), {s['mismatches']} mismatches"
        )
        print(
            f"Verilator build {s['build_seconds']} s, {session['frames_per_second']} frames/s "
            f"simulated, Yosys {s['yosys']['seconds']} s; {seconds:.0f} s in all"
        )
        h = result["hls_core"]
        print(
            f"HLS core: reuse factors {h['reuse_factors']}, {h['pixel_interval_clocks']:,} clocks "
            f"per pixel (margin {h['real_time_margin']:.2f}); g++ {h['compile_seconds']} s, "
            f"C simulation of {h['frames_streamed']} frames at {h['csim_frames_per_second']} "
            f"frames/s: {h['windows_compared']:,} windows, {h['mismatches']} mismatches"
        )
        for name, ok in result["floors"].items():
            print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    return 0 if all(result["floors"].values()) else 1


if __name__ == "__main__":
    with warnings_off():  # the libraries' warnings, in workers too: not our output
        sys.exit(main())
