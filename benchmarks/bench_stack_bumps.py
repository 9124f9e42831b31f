"""Benchmark of issue 12, the track stack in hardware, its first half: the bumps core
(``hls/stack_bumps.py``) at full size (2,304 pixels, the integer twin's default settings),
synthesized by Yosys for the 7-series, and streamed in Amaranth's simulator on pixels of a
simulated session, every x compared with the twin's (``IntegerTrackStack.bumps``).

Reports LUTs, flip-flops, DSP48s, block RAM (RAMB36 equivalents; the twin's arithmetic said
about 46 for the bumps and 38 for the samples), LUT levels between registers, the clocks a
pixel takes at worst (and the most measured on the session's pixels) and the real-time margin
at 100 MHz from the worst. The session has 20,000 meteors an hour. Floors: 0 mismatches on
every compared x; real-time margin at least 1.5.

``python benchmarks/bench_stack_bumps.py [--pixels 32] [--frames 200] [--seed 1] [--json]``
(about a minute and a half). Exits 1 if a floor is missed.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from amaranth.back import rtlil

from uvhunt.console import warnings_off
from uvhunt.detection.track_stack_integer import IntegerTrackStack
from uvhunt.euso.meteors import MeteorConfig
from uvhunt.euso.session import SessionConfig, SessionSimulator
from uvhunt.hls.core_build import cycles_available
from uvhunt.hls.netlist import logic_levels
from uvhunt.hls.resources import run_synthesis
from uvhunt.hls.stack_bumps import StackBumps
from uvhunt.sim.bumps_stream import stream_bumps

METEORS_PER_HOUR = 20_000.0
"""Meteors per hour of the streamed session: a few dozen in its seconds, for bumps to cap."""
CLOCK_MHZ = 100.0
MIN_MARGIN = 1.5
TOP = "stack_bumps"


def pick_pixels(x: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` flat pixel indices: half those whose |x| (frames, 2,304) is largest most
    often (meteors, lights, hot pixels), half at random among the rest."""
    busy = np.argsort(-(np.abs(x) >= 16).sum(axis=0), kind="stable")[: count // 2]
    rest = np.setdiff1d(np.arange(x.shape[1]), busy)
    return np.concatenate([busy, rng.choice(rest, count - len(busy), replace=False)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pixels", type=int, default=32, help="pixels streamed (of 2,304)")
    parser.add_argument("--frames", type=int, default=200, help="frames of the session")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    stack = IntegerTrackStack()
    lag = stack.spread + stack.margin
    if not 2 * stack.margin + stack.spread < args.frames <= 512 or not 1 <= args.pixels <= 2304:
        print(
            f"--frames must be {2 * stack.margin + stack.spread + 1}…512 and --pixels 1…2,304",
            file=sys.stderr,
        )
        return 2
    start = time.perf_counter()
    say = (lambda *_: None) if args.json else (lambda text: print(text, file=sys.stderr))

    say("synthesizing the full-size core (Yosys synth_xilinx)…")
    core = StackBumps.for_stack(stack)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / f"{TOP}.il").write_text(rtlil.convert(core, name=TOP))
        synthesis = run_synthesis(f"read_rtlil {TOP}.il", TOP, work, netlist=True)
        levels = logic_levels(work / "netlist.json", TOP)

    say(f"simulating a session of {args.frames} frames, streaming {args.pixels} pixels…")
    meteors = MeteorConfig(rate_per_hour=METEORS_PER_HOUR)
    simulator = SessionSimulator(SessionConfig(frames=args.frames, meteors=meteors), args.seed)
    movie = next(simulator.chunks()).counts.astype(np.int64)
    want = stack.bumps(movie).reshape(args.frames, -1)
    chosen = pick_pixels(want, args.pixels, np.random.default_rng(args.seed))
    raw = movie.reshape(args.frames, -1)[:, chosen]
    x, valid, pace = stream_bumps(StackBumps.for_stack(stack, args.pixels), raw)
    first = 2 * stack.margin + stack.spread  # the first input frame with an x
    got, expected = x[first:], want[stack.margin : args.frames - lag][:, chosen]
    mismatches = int((got != expected).sum()) + int((valid[first:] != 1).sum())
    mismatches += int((valid[:first] != 0).sum())
    clocks = int(pace[first + 1 :].max())  # every stage runs once x comes out
    worst = core.worst_clocks_per_pixel
    per_frame = worst * 2304
    margin = cycles_available(CLOCK_MHZ) / per_frame
    r = synthesis
    result = {
        "seconds": round(time.perf_counter() - start, 1),
        "pixels": 2304,
        "settings": {name: getattr(stack, name) for name in StackBumps.SETTINGS},
        "resources": {
            "luts": r["luts"],
            "flip_flops": r["flip_flops"],
            "dsps": r["dsps"],
            "bram36": r["ramb36"] + r["ramb18"] / 2,
            "logic_levels": levels,
        },
        "yosys_seconds": r["seconds"],
        "clocks_per_pixel_worst": worst,
        "clocks_per_pixel_most_measured": clocks,
        "clocks_per_pixel_mean": round(float(pace[first + 1 :].mean()), 1),
        "cycles_per_frame": per_frame,
        "cycles_available": cycles_available(CLOCK_MHZ),
        "real_time_margin": round(margin, 2),
        "session": {"seed": args.seed, "frames": args.frames, "pixels": args.pixels},
        "x_compared": int(got.size),
        "x_capped": int((np.abs(expected) == stack.limit).sum()),
        "x_nonzero": int((expected != 0).sum()),
        "mismatches": mismatches,
        "floors": {
            "0 mismatches": mismatches == 0,
            f"real-time margin >= {MIN_MARGIN} at {CLOCK_MHZ:g} MHz": margin >= MIN_MARGIN,
        },
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        res = result["resources"]
        print(
            f"track stack bumps core, 2,304 pixels: {res['luts']:,} LUTs, {res['flip_flops']:,} "
            f"FFs, {res['dsps']} DSP48, {res['bram36']:g} BRAM36, {levels} LUT levels "
            f"(Yosys {r['seconds']} s)"
        )
        print(
            f"{worst} clocks a pixel at worst ({clocks} at most and "
            f"{result['clocks_per_pixel_mean']} on average here): {per_frame:,} of "
            f"{result['cycles_available']:,} a frame at {CLOCK_MHZ:g} MHz, "
            f"margin {margin:.1f}"
        )
        print(
            f"{result['x_compared']:,} x compared on {args.pixels} pixels of a {args.frames}-frame "
            f"session ({result['x_nonzero']:,} non-zero, {result['x_capped']:,} capped): "
            f"{mismatches} mismatches; {result['seconds']:.0f} s in all"
        )
        for name, ok in result["floors"].items():
            print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    return 0 if all(result["floors"].values()) else 1


if __name__ == "__main__":
    with warnings_off():
        sys.exit(main())
