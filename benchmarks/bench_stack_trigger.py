"""Benchmark of issue 12, the track stack in hardware: the track stack trigger
(``hls/stack_trigger.py``: the bumps core streaming into the tracks core) at full size (2,304
pixels, the integer twin's default settings), synthesized by Yosys for the 7-series, and
streamed in Amaranth's simulator on a simulated session, compared with the integer twin
(``IntegerTrackStack``) exactly:

- the bumps core's x on ``--pixels`` pixels of the session (half the busiest, half at random);
- the whole trigger's Z on the 4 × 4 block of the session where the twin's Z is highest,
  alone on the focal surface (the twin run on the block with every other pixel dark).

Reports LUTs, flip-flops, DSP48s, block RAM (RAMB36 equivalents) and LUT levels between
registers for the trigger and for each core, next to the Zynq-7020's 53,200 LUTs and 140
RAMB36 and the flight L2 trigger's about 1,000 LUTs; the clocks a pixel takes at worst (the
tracks core's, as the two work at once) and the real-time margin at 100 MHz from it. The
session has 20,000 meteors an hour. Floors: 0 mismatches on every compared x and Z; real-time
margin at least 1.5.

``python benchmarks/bench_stack_trigger.py [--pixels 32] [--frames 140] [--seed 1] [--json]``
(five to seven minutes). Exits 1 if a floor is missed.
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
from uvhunt.detection.track_stack_integer import NO_SCORE, IntegerTrackStack
from uvhunt.euso.meteors import MeteorConfig
from uvhunt.euso.session import SessionConfig, SessionSimulator
from uvhunt.hls.core_build import cycles_available
from uvhunt.hls.netlist import logic_levels
from uvhunt.hls.resources import run_synthesis
from uvhunt.hls.stack_bumps import StackBumps
from uvhunt.hls.stack_tracks import StackTracks
from uvhunt.hls.stack_trigger import StackTrigger
from uvhunt.sim.stack_stream import stream_bumps, stream_trigger

METEORS_PER_HOUR = 20_000.0
"""Meteors per hour of the streamed session: a few dozen in its seconds."""
CLOCK_MHZ = 100.0
MIN_MARGIN = 1.5
BLOCK = 4
"""Side of the block of pixels streamed through the whole trigger."""
ZYNQ_7020 = {"luts": 53_200, "bram36": 140}
FLIGHT_L2_LUTS = 1_000


def synthesize(core, name: str) -> dict:
    """LUTs, flip-flops, DSP48s, RAMB36 equivalents and LUT levels of ``core`` by Yosys."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / f"{name}.il").write_text(rtlil.convert(core, name=name))
        r = run_synthesis(f"read_rtlil {name}.il", name, work, netlist=True)
        levels = logic_levels(work / "netlist.json", name)
    return {
        "luts": r["luts"],
        "flip_flops": r["flip_flops"],
        "dsps": r["dsps"],
        "bram36": r["ramb36"] + r["ramb18"] / 2,
        "logic_levels": levels,
        "yosys_seconds": r["seconds"],
    }


def pick_pixels(x: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` flat pixel indices: half those whose |x| (frames, 2,304) is large most often
    (meteors, lights, hot pixels), half at random among the rest."""
    busy = np.argsort(-(np.abs(x) >= 16).sum(axis=0), kind="stable")[: count // 2]
    rest = np.setdiff1d(np.arange(x.shape[1]), busy)
    return np.concatenate([busy, rng.choice(rest, count - len(busy), replace=False)])


def pick_block(z: np.ndarray) -> tuple[int, int]:
    """(row, column) of the BLOCK × BLOCK block, on the grid of BLOCK, holding the highest
    score of ``z`` (frames, 48, 48; NO_SCORE where none)."""
    best = z.max(axis=0).reshape(48 // BLOCK, BLOCK, 48 // BLOCK, BLOCK).max(axis=(1, 3))
    row, col = np.unravel_index(np.argmax(best), best.shape)
    return int(row) * BLOCK, int(col) * BLOCK


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pixels", type=int, default=32, help="pixels streamed for x")
    parser.add_argument("--frames", type=int, default=140, help="frames of the session")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    stack = IntegerTrackStack()
    trigger = StackTrigger.for_stack(stack)
    if not trigger.first_z < args.frames <= 512 or not 1 <= args.pixels <= 2304:
        print(f"--frames must be {trigger.first_z + 1}…512 and --pixels 1…2,304", file=sys.stderr)
        return 2
    start = time.perf_counter()
    say = (lambda *_: None) if args.json else (lambda text: print(text, file=sys.stderr))

    say("synthesizing the full-size trigger and each of its cores (Yosys synth_xilinx)…")
    resources = {
        "trigger": synthesize(trigger, "stack_trigger"),
        "bumps_core": synthesize(StackBumps.for_stack(stack), "stack_bumps"),
        "tracks_core": synthesize(StackTracks.for_stack(stack), "stack_tracks"),
    }

    say(f"simulating a session of {args.frames} frames…")
    meteors = MeteorConfig(rate_per_hour=METEORS_PER_HOUR)
    simulator = SessionSimulator(SessionConfig(frames=args.frames, meteors=meteors), args.seed)
    movie = next(simulator.chunks()).counts.astype(np.int64)

    say(f"streaming {args.pixels} pixels through the bumps core…")
    bumps_lag = stack.spread + stack.margin
    want_x = stack.bumps(movie).reshape(args.frames, -1)
    chosen = pick_pixels(want_x, args.pixels, np.random.default_rng(args.seed))
    x, x_valid, _ = stream_bumps(
        StackBumps.for_stack(stack, args.pixels), movie.reshape(args.frames, -1)[:, chosen]
    )
    first_x = 2 * stack.margin + stack.spread  # the first input frame with an x
    expected_x = want_x[stack.margin : args.frames - bumps_lag][:, chosen]
    x_mismatches = int((x[first_x:] != expected_x).sum())
    x_mismatches += int((x_valid[first_x:] != 1).sum()) + int((x_valid[:first_x] != 0).sum())

    row, col = pick_block(stack.stacked(movie, None, NO_SCORE, np.int32))
    say(f"streaming the {BLOCK} × {BLOCK} block at row {row}, column {col} through the trigger…")
    block = np.zeros_like(movie)
    block[:, row : row + BLOCK, col : col + BLOCK] = movie[:, row : row + BLOCK, col : col + BLOCK]
    alone = stack.stacked(block, None, NO_SCORE, np.int32)[:, row : row + BLOCK, col : col + BLOCK]
    small = StackTrigger.for_stack(stack, BLOCK)
    raw = movie[:, row : row + BLOCK, col : col + BLOCK].reshape(args.frames, -1)
    z, z_valid, _, pace = stream_trigger(small, raw, threshold=2**10 - 1)
    first = small.first_z
    expected_z = alone.reshape(args.frames, -1)[first - small.lag : args.frames - small.lag]
    z_mismatches = int((z[first:] != expected_z).sum()) + int((expected_z == NO_SCORE).sum())
    z_mismatches += int((z_valid[first:] != 1).sum()) + int((z_valid[:first] != 0).sum())

    worst = max(trigger.bumps.worst_clocks_per_pixel, trigger.tracks.worst_clocks_per_pixel)
    measured = int(pace.reshape(-1)[2:].max())  # from the third beat: both cores at work
    per_frame = worst * 2304
    margin = cycles_available(CLOCK_MHZ) / per_frame
    mismatches = x_mismatches + z_mismatches
    total = resources["trigger"]
    result = {
        "seconds": round(time.perf_counter() - start, 1),
        "pixels": 2304,
        "settings": {name: getattr(stack, name) for name in StackBumps.SETTINGS}
        | {"frames": stack.frames, "recurrence": stack.recurrence, "velocities": trigger.tracks.V},
        "resources": resources,
        "zynq_7020_fraction": {k: round(total[k] / v, 3) for k, v in ZYNQ_7020.items()},
        "flight_l2_luts": FLIGHT_L2_LUTS,
        "clocks_per_pixel_worst": worst,
        "clocks_per_pixel_most_measured": measured,
        "cycles_per_frame": per_frame,
        "cycles_available": cycles_available(CLOCK_MHZ),
        "real_time_margin": round(margin, 2),
        "session": {"seed": args.seed, "frames": args.frames, "block": [row, col]},
        "x_compared": int(expected_x.size),
        "x_nonzero": int((expected_x != 0).sum()),
        "z_compared": int(expected_z.size),
        "z_highest": int(expected_z.max()),
        "mismatches": {"x": x_mismatches, "z": z_mismatches},
        "floors": {
            "0 mismatches (x and Z)": mismatches == 0,
            f"real-time margin >= {MIN_MARGIN} at {CLOCK_MHZ:g} MHz": margin >= MIN_MARGIN,
        },
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for name, r in resources.items():
            print(
                f"{name.replace('_', ' ')}, 2,304 pixels: {r['luts']:,} LUTs, "
                f"{r['flip_flops']:,} FFs, {r['dsps']} DSP48, {r['bram36']:g} BRAM36, "
                f"{r['logic_levels']} LUT levels (Yosys {r['yosys_seconds']} s)"
            )
        share = result["zynq_7020_fraction"]
        print(
            f"the trigger takes {share['luts']:.1%} of a Zynq-7020's LUTs and "
            f"{share['bram36']:.0%} of its RAMB36 (the flight L2 trigger: about "
            f"{FLIGHT_L2_LUTS:,} LUTs)"
        )
        print(
            f"{worst} clocks a pixel at worst ({measured} measured): {per_frame:,} of "
            f"{result['cycles_available']:,} a frame at {CLOCK_MHZ:g} MHz, margin {margin:.2f}"
        )
        print(
            f"{result['x_compared']:,} x on {args.pixels} pixels ({result['x_nonzero']:,} "
            f"non-zero): {x_mismatches} mismatches; {result['z_compared']:,} Z on the block "
            f"(highest {result['z_highest']}): {z_mismatches} mismatches; "
            f"{result['seconds']:.0f} s in all"
        )
        for name, ok in result["floors"].items():
            print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    return 0 if all(result["floors"].values()) else 1


if __name__ == "__main__":
    with warnings_off():
        sys.exit(main())
