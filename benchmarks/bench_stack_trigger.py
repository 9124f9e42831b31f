"""Benchmark of issue 12, the track stack in hardware: the track stack trigger
(``hls/stack_trigger.py``: the bumps core streaming into the tracks core) at full size (2,304
pixels, the integer twin's default settings), synthesized by Yosys for the 7-series, and
streamed in Amaranth's simulator on a simulated session, compared with the integer twin
(``IntegerTrackStack``) exactly:

- the bumps core's x on ``--pixels`` pixels of the session (half the busiest, half at random);
- the whole trigger's Z on the 4 × 4 block of the session where the twin's Z is highest,
  alone on the focal surface (the twin run on the block with every other pixel dark);
- with it, the stack–gate coincidence's bit (``hls/stack_coincidence.py``) against
  ``detection.stack_coincidence.coincident`` on the twin's Z above ``--coincidence-z`` and the
  peak gate's codes above ``--gate-code`` (the default preprocessing). The defaults make about
  half the block's Z above the threshold coincide (no Z of the block reaches the default run's
  stored 97, and its gate codes above 1,099 come after the frames it reaches).

The trigger is built and synthesized with the coincidence (16 frames, 1 pixel), as it flies.
With ``--export``, the flight trigger too (``hls/flight_trigger.py``: that export's trigger
core, protected as ``uvhunt core`` builds it by default, and this trigger on one stream),
against the on-board XC7Z030; its pace is the slower design's.

Reports LUTs, flip-flops, DSP48s, block RAM (RAMB36 equivalents) and LUT levels between
registers for the trigger and for each core, next to the Zynq-7020's 53,200 LUTs and 140
RAMB36 and the flight L2 trigger's about 1,000 LUTs; the clocks a pixel takes at worst (the
tracks core's, as the two work at once) and the real-time margin at 100 MHz from it. The
session has 20,000 meteors an hour. Floors: 0 mismatches on every compared x and Z; real-time
margin at least 1.5.

``python benchmarks/bench_stack_trigger.py [--pixels 32] [--frames 140] [--seed 1]
[--coincidence-z 30] [--gate-code 700] [--export DIR] [--json]``
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
from uvhunt.detection.peak_gate import PeakGateTrigger
from uvhunt.detection.stack_coincidence import FRAMES, PIXELS
from uvhunt.detection.track_stack_integer import NO_SCORE, IntegerTrackStack
from uvhunt.euso.meteors import MeteorConfig
from uvhunt.euso.session import SessionConfig, SessionSimulator
from uvhunt.firmware_tests.coincidence_reference import coincidence_bits
from uvhunt.hls.core_build import (
    DEFAULT_MITIGATION,
    CoreConfig,
    choose_lanes,
    core_model,
    cycles_available,
    make_core,
)
from uvhunt.hls.flight_trigger import FlightTrigger
from uvhunt.hls.netlist import logic_levels
from uvhunt.hls.resources import run_synthesis
from uvhunt.hls.stack_bumps import StackBumps
from uvhunt.hls.stack_coincidence import StackCoincidence
from uvhunt.hls.stack_tracks import StackTracks
from uvhunt.hls.stack_trigger import StackTrigger
from uvhunt.quant.golden import read_export
from uvhunt.quant.preprocess import Preprocessing
from uvhunt.sim.stack_stream import stream_bumps, stream_frames

METEORS_PER_HOUR = 20_000.0
"""Meteors per hour of the streamed session: a few dozen in its seconds."""
CLOCK_MHZ = 100.0
MIN_MARGIN = 1.5
BLOCK = 4
"""Side of the block of pixels streamed through the whole trigger."""
ZYNQ_7020 = {"luts": 53_200, "bram36": 140}
XC7Z030 = {"luts": 78_600, "flip_flops": 157_200, "dsps": 400, "bram36": 265}
"""The on-board FPGA (../shared/FACTS.md)."""
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


def flight_resources(export: Path, stack: IntegerTrackStack, reach: tuple[int, int]) -> dict:
    """Yosys's figures for the flight trigger (the trigger core of ``export``, built as
    ``uvhunt core`` builds it by default, with the stack trigger of ``stack`` and the
    coincidence's ``reach``), its clocks a pixel, the real-time margin and its share of the
    XC7Z030."""
    trigger = StackTrigger.for_stack(stack, coincidence=reach)
    golden, model_config = read_export(export)
    model = core_model(golden, model_config.preprocessing)
    lanes, core_clocks = choose_lanes(model, CoreConfig())
    core = make_core(model, 2304, lanes, None, DEFAULT_MITIGATION)
    figures = synthesize(FlightTrigger(core, trigger), "flight_trigger")
    clocks = max(core_clocks, trigger.worst_clocks_per_pixel)
    return {
        **figures,
        "mitigation": DEFAULT_MITIGATION,
        "lanes": lanes,
        "core_clocks_per_pixel": core_clocks,
        "clocks_per_pixel": clocks,
        "real_time_margin": round(cycles_available(CLOCK_MHZ) / (clocks * 2304), 2),
        "xc7z030_fraction": {k: round(figures[k] / v, 3) for k, v in XC7Z030.items()},
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
    parser.add_argument("--coincidence-z", type=int, default=30, help="2^-F sigma")
    parser.add_argument("--gate-code", type=int, default=700, help="the coincidence's code")
    parser.add_argument("--export", help="also synthesize the flight trigger with its core")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    stack = IntegerTrackStack()
    reach = (FRAMES, PIXELS)
    trigger = StackTrigger.for_stack(stack, coincidence=reach)
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
        "coincidence_core": synthesize(
            StackCoincidence(48, trigger.lag, trigger.tracks.z_bits, *reach), "stack_coincidence"
        ),
    }

    flight = None
    if args.export:
        say(f"synthesizing the flight trigger with the trigger core of {args.export}…")
        flight = flight_resources(Path(args.export), stack, reach)

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
    small = StackTrigger.for_stack(stack, BLOCK, coincidence=reach)
    raw = movie[:, row : row + BLOCK, col : col + BLOCK].reshape(args.frames, -1)
    codes = PeakGateTrigger().codes(movie, Preprocessing())
    gate = codes[:, row : row + BLOCK, col : col + BLOCK].reshape(args.frames, -1) > args.gate_code
    beats, pace = stream_frames(
        small,
        np.stack([raw, gate], axis=-1),
        ("s_tdata", "s_gate"),
        ("m_z", "m_z_valid", "m_coinc"),
        held={"threshold": 2**10 - 1, "coincidence_threshold": args.coincidence_z},
    )
    z, z_valid, coinc = np.moveaxis(beats, -1, 0)
    first, lag = small.first_z, small.lag
    expected_z = alone.reshape(args.frames, -1)[first - lag : args.frames - lag]
    z_mismatches = int((z[first:] != expected_z).sum()) + int((expected_z == NO_SCORE).sum())
    z_mismatches += int((z_valid[first:] != 1).sum()) + int((z_valid[:first] != 0).sum())
    above = np.zeros(coinc.shape, bool)  # the twin's Z above the coincidence's threshold
    above[first:] = expected_z > args.coincidence_z
    expected_coinc = coincidence_bits(above, gate, BLOCK, lag, *reach)
    coinc_mismatches = int((coinc != expected_coinc).sum())
    both_ways = 0 < int(expected_coinc.sum()) < int(above.sum())

    worst = trigger.worst_clocks_per_pixel
    measured = int(pace.reshape(-1)[2:].max())  # from the third beat: both cores at work
    per_frame = worst * 2304
    margin = cycles_available(CLOCK_MHZ) / per_frame
    mismatches = x_mismatches + z_mismatches + coinc_mismatches
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
        "coincidence": {
            "frames": FRAMES,
            "pixels": PIXELS,
            "z_threshold": args.coincidence_z,
            "gate_code": args.gate_code,
            "z_above": int(above.sum()),
            "gate_bits": int(gate.sum()),
            "coincident": int(expected_coinc.sum()),
        },
        "flight_trigger": flight,
        "mismatches": {"x": x_mismatches, "z": z_mismatches, "coincidence": coinc_mismatches},
        "floors": {
            "0 mismatches (x, Z and the coincidence)": mismatches == 0,
            f"real-time margin >= {MIN_MARGIN} at {CLOCK_MHZ:g} MHz": margin >= MIN_MARGIN,
            "the coincidence compared both ways (some Z above coincide, some not)": both_ways,
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
        if flight is not None:
            share = flight["xc7z030_fraction"]
            print(
                f"the flight trigger (the export's core, {flight['mitigation']}, {flight['lanes']} "
                f"lanes, and the stack trigger): {flight['luts']:,} LUTs ({share['luts']:.1%} of "
                f"the XC7Z030), {flight['flip_flops']:,} FFs, {flight['dsps']} DSP48, "
                f"{flight['bram36']:g} RAMB36 ({share['bram36']:.0%}), {flight['logic_levels']} "
                f"LUT levels; {flight['clocks_per_pixel']} clocks a pixel, margin "
                f"{flight['real_time_margin']:.2f}"
            )
        near = result["coincidence"]
        print(
            f"the coincidence on the block: {near['z_above']} Z > {args.coincidence_z}, "
            f"{near['gate_bits']} gate codes > {args.gate_code}, {near['coincident']} "
            f"coincident: {coinc_mismatches} mismatches"
        )
        for name, ok in result["floors"].items():
            print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    return 0 if all(result["floors"].values()) else 1


if __name__ == "__main__":
    with warnings_off():
        sys.exit(main())
