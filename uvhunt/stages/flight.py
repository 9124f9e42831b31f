"""The flight trigger in one design (``hls/flight_trigger.py``): the export's trigger core (its
network and peak gate, built as `uvhunt core` builds it) and the track stack trigger with the
stack–gate coincidence, on one stream of raw D3 counts, written as Verilog
(``uvhunt_flight.v``) and co-simulated with cocotb in Verilator on a stretch of a session.
Every output of both streams (score, trigger bits, the gate's two bits, Z, the stack's bit,
the coincidence, the frame marks) must equal its software: the golden scoring, the peak
gate's integers, the track stack's integer twin and the coincidence rule. Two streams: back
to back, with the dead and hot pixels found in the movie's first frames written through the
mask port; then, after a reset, with random gaps in the input and back-pressure on both
outputs, every pixel live. The thresholds held are the export's stored ones: the network's
score of the core's pair, the stack's Z and gate code, the coincidence's Z and gate code.
Not in `uvhunt run` (minutes of simulation at 2,304 pixels): `uvhunt flight`, or
`uvhunt run --only flight`."""

import shutil
import time
from pathlib import Path

import numpy as np
from amaranth.back import verilog

from uvhunt._core.atomic import atomic_dir, check_output, write_json
from uvhunt._core.errors import UvhuntError
from uvhunt._core.simulators import SIMULATORS, find_simulator
from uvhunt.console import say, table
from uvhunt.detection.operating_point import flight_score, stored_threshold
from uvhunt.detection.stack_coincidence import FRAMES, PIXELS
from uvhunt.detection.stack_operating_point import excluded_pixels
from uvhunt.detection.stack_scan import FIX, stored_stack
from uvhunt.detection.track_stack_integer import NO_SCORE, IntegerTrackStack
from uvhunt.euso.readers import open_movie
from uvhunt.firmware_tests.core_reference import CoreReference
from uvhunt.firmware_tests.core_testbench import CLOCK_NS
from uvhunt.firmware_tests.flight_reference import case_arrays, expected_flight
from uvhunt.firmware_tests.flight_tests import PACKED_OUTPUTS, TESTS
from uvhunt.hls.core_build import (
    DEFAULT_MITIGATION,
    MITIGATIONS,
    CoreConfig,
    choose_lanes,
    core_model,
    cycles_available,
    make_core,
)
from uvhunt.hls.flight_trigger import FlightTrigger
from uvhunt.hls.stack_trigger import StackTrigger
from uvhunt.quant.golden import read_export
from uvhunt.quant.preprocess import movie_raw_counts
from uvhunt.sim.junit import junit_verdicts, test_results
from uvhunt.sim.runner import CosimRun, run_cocotb
from uvhunt.stages.stage import Input, Stage

TOP = "uvhunt_flight"
TEST_MODULE = "uvhunt.firmware_tests.flight_tests"
DEFAULT_FRAMES = 120
"""Frames streamed: the stack's first Z leaves at frame 102, so 18 frames of Z (2,304 each)."""


def add_options(p) -> None:
    p.add_argument(
        "--flight-frames",
        type=int,
        default=DEFAULT_FRAMES,
        help="frames streamed, in each of the two streams",
    )
    p.add_argument(
        "--start-frame",
        type=int,
        default=None,
        help="the movie's frame the streams start at; unset: where the stack's highest Z of "
        "the movie, its dead and hot pixels left out, falls among the streamed Z",
    )
    p.add_argument(
        "--mitigation",
        default=DEFAULT_MITIGATION,
        choices=MITIGATIONS,
        help="the trigger core's upset protection (as `uvhunt core`)",
    )
    p.add_argument("--simulator", default="verilator", help=f"one of {', '.join(SIMULATORS)}")


def stored_flight(export: Path) -> tuple[IntegerTrackStack, dict[str, int]]:
    """The track stack and the five threshold ports' values (``flight_reference.HELD``)
    stored in an export."""
    operating = stored_threshold(export)
    score = flight_score(operating)
    stack, with_gate, coincidence = stored_stack(operating, export)
    if score is None or coincidence is None:
        raise UvhuntError(
            "the export lacks the network's stored score or the stack–gate coincidence's "
            "thresholds (manifest.json: operating_threshold.flight or .core, "
            "operating_threshold.track_stack.coincidence)",
            path=export,
            fix=FIX,
        )
    return stack, {
        "threshold": score,
        "gate_threshold": with_gate["gate_code"],
        "gate_low_threshold": coincidence["gate_code"],
        "stack_threshold": with_gate["threshold"],
        "coincidence_threshold": coincidence["threshold"],
    }


def busiest_start(
    raw: np.ndarray,
    stack: IntegerTrackStack,
    excluded: np.ndarray,
    trigger: StackTrigger,
    frames: int,
) -> int:
    """The movie frame a stream of ``frames`` frames starts at so that the frame of the
    movie's highest Z (its stack trigger's strongest track, ``excluded`` (48, 48) pixels
    left out) is in the middle of the frames whose Z the stream puts out (frames
    ``first_z − lag`` … ``frames − 1 − lag`` of the stream): the highest among the frames
    that can be put there. ``raw``: the movie's raw counts (frames, 48, 48)."""
    z = stack.stacked(raw, excluded, NO_SCORE, np.int32)
    middle = (trigger.first_z - trigger.lag + frames - 1 - trigger.lag) // 2
    placeable = z[middle : len(raw) - frames + middle + 1]  # frames start + middle can be
    return int(np.unravel_index(np.argmax(placeable), placeable.shape)[0])


def cosimulate(flight: FlightTrigger, cases: dict, simulator, work: Path) -> CosimRun:
    """Write ``flight`` as Verilog (``uvhunt_flight.v``) and the streams ``cases``
    (``flight_reference.case_arrays`` of each of ``TESTS``) into ``work``, and run the tests
    on it in ``simulator``."""
    work.mkdir(parents=True, exist_ok=True)
    (work / f"{TOP}.v").write_text(verilog.convert(flight, name=TOP))
    np.savez(work / "stream.npz", **cases)
    return run_cocotb(
        [work / f"{TOP}.v"],
        TOP,
        TEST_MODULE,
        TESTS,
        simulator,
        work,
        {"UVHUNT_STREAM": str((work / "stream.npz").resolve())},
        public=(),  # the wrapper's ports are enough
        long_run=True,
        clock=("clk", CLOCK_NS),
        packed=PACKED_OUTPUTS,
    )


def run(args, progress) -> dict:
    out, export = Path(args.out), Path(args.export)
    check_output(out, [export, args.movie])
    golden, model_config = read_export(export)
    stack, held = stored_flight(export)
    try:
        model = core_model(golden, model_config.preprocessing)
        lanes, core_clocks = choose_lanes(model, CoreConfig())
        core = make_core(model, 48 * 48, lanes, None, args.mitigation)
    except ValueError as exc:
        raise UvhuntError(
            f"the trigger core cannot map this model: {exc}",
            path=export / "golden.npz",
            fix="export a model the trigger core maps (`uvhunt train` defaults)",
        ) from exc
    trigger = StackTrigger.for_stack(stack, coincidence=(FRAMES, PIXELS))
    if args.flight_frames <= trigger.first_z:
        raise UvhuntError(
            f"--flight-frames {args.flight_frames} gives no Z: the stack's first leaves at frame "
            f"{trigger.first_z}",
            fix=f"use --flight-frames {DEFAULT_FRAMES} or more",
        )
    movie = open_movie(Path(args.movie))
    if movie.frames < args.flight_frames:
        raise UvhuntError(
            f"the movie has {movie.frames} frames, fewer than --flight-frames {args.flight_frames}",
            path=args.movie,
            fix="stream fewer frames or a longer movie",
        )
    start = time.perf_counter()
    frames = args.flight_frames
    found = excluded_pixels(movie)
    first = args.start_frame
    if first is None:
        first = busiest_start(movie_raw_counts(movie), stack, found, trigger, frames)
    elif not 0 <= first <= movie.frames - frames:
        raise UvhuntError(
            f"--start-frame {first} leaves fewer than {frames} frames of the movie's "
            f"{movie.frames}",
            path=args.movie,
            fix=f"use --start-frame 0…{movie.frames - frames}",
        )
    raw = movie_raw_counts(movie, first, first + frames).reshape(frames, -1).astype(np.int64)
    found = found.reshape(-1)
    reference = CoreReference(golden, model_config.preprocessing)
    cases = {}
    masks = {"stream_back_to_back": found, "stream_stalled": np.zeros_like(found)}
    with progress(len(TESTS), "expected outputs", "stream") as bar:
        for name in TESTS:
            want = expected_flight(
                reference, stack, 48, trigger.lag, trigger.first_z, (FRAMES, PIXELS), raw,
                held, masks[name],
            )  # fmt: skip
            cases.update(case_arrays(name, raw, held, masks[name], want))
            bar.update(1)
    flight = FlightTrigger(core, trigger)
    clocks = max(core_clocks, trigger.worst_clocks_per_pixel)
    margin = round(cycles_available(CoreConfig().clock_mhz) / (clocks * 48 * 48), 2)
    with atomic_dir(out) as tmp:
        simulator = find_simulator(args.simulator, tmp / "bin")
        say(
            f"flight: {frames} frames × 2,304 pixels, twice, through the flight trigger in "
            f"{simulator.name} (log: {out / 'sim.log'})",
            args.quiet,
        )
        cosim = cosimulate(flight, cases, simulator, tmp)
        verdicts, results = junit_verdicts(cosim.junit), test_results(cosim.results)
        summary = {
            "export": str(export),
            "movie": str(args.movie),
            "verilog": str(out / f"{TOP}.v"),
            "pixels": 48 * 48,
            "frames": frames,
            "start_frame": first,
            "lanes": lanes,
            "mitigation": args.mitigation,
            "core_clocks_per_pixel": core_clocks,
            "stack_clocks_per_pixel": trigger.worst_clocks_per_pixel,
            "clocks_per_pixel": clocks,
            "real_time_margin": margin,
            "thresholds": held,
            "coincidence": {"frames": FRAMES, "pixels": PIXELS},
            "first_z_frame": trigger.first_z,
            "lag": trigger.lag,
            "excluded_pixels": {k: int(v.sum()) for k, v in masks.items()},
            "tests": verdicts,
            "results": results,
            "mismatches": sum(r.get("mismatches", 0) for r in results.values()),
            "beats_compared": sum(
                r.get("core_beats", 0) + r.get("stack_beats", 0) for r in results.values()
            ),
            "z_compared": sum(r.get("z_compared", 0) for r in results.values()),
            "triggers": {
                name: sum(r.get("triggers", {}).get(name, 0) for r in results.values())
                for name in ("m_trig", "m_gate_trig", "m_gate_low", "m_stack_trig", "m_coinc")
            },
            "simulator": simulator.describe(),
            "build_seconds": round(cosim.build_seconds, 1),
            "test_seconds": round(cosim.test_seconds, 1),
            "seconds": round(time.perf_counter() - start, 1),
        }
        write_json(tmp / "summary.json", summary)
        (tmp / "stream.npz").unlink()  # the movie's frames and expectations: rebuilt at will
        shutil.rmtree(tmp / "bin", ignore_errors=True)
        shutil.rmtree(tmp / "build", ignore_errors=True)
    failed = [name for name, verdict in verdicts.items() if verdict != "passed"]
    if failed or summary["mismatches"] or set(verdicts) != set(TESTS):
        raise UvhuntError(
            f"the flight trigger differs from its software: {summary['mismatches']} outputs "
            f"differ; tests not passed: {', '.join(failed) or 'none'}",
            path=out / "results.xml",
            fix=f"read {out / 'sim.log'} and the results/ folder",
        )
    return {"out": str(out), **summary}


HEADER = ["stream", "verdict", "beats (core + stack)", "Z", "mismatches", "set bits", "s"]


def render(summary: dict) -> str:
    rows = []
    for name, verdict in summary["tests"].items():
        r = summary["results"].get(name, {})
        t = r.get("triggers", {})
        rows.append(
            [
                name,
                verdict,
                f"{r.get('core_beats', 0):,} + {r.get('stack_beats', 0):,}",
                f"{r.get('z_compared', 0):,}",
                r.get("mismatches", "—"),
                " ".join(f"{k[2:]} {v}" for k, v in t.items()),
                r.get("seconds", "—"),
            ]
        )
    held = summary["thresholds"]
    return "\n".join(
        [
            table(rows, HEADER),
            f"thresholds held: network score > {held['threshold']}, gate code > "
            f"{held['gate_threshold']}, Z > {held['stack_threshold']}; coincidence Z > "
            f"{held['coincidence_threshold']} with a code > {held['gate_low_threshold']} within "
            f"{summary['coincidence']['frames']} frames and {summary['coincidence']['pixels']} "
            "pixel",
            f"{summary['clocks_per_pixel']:,} clocks a pixel (core "
            f"{summary['core_clocks_per_pixel']:,}, stack {summary['stack_clocks_per_pixel']:,}): "
            "real-time margin "
            f"{summary['real_time_margin']:.2f}; built in {summary['build_seconds']} s, "
            f"simulated in {summary['test_seconds']} s",
            f"streamed: frames {summary['start_frame']}…"
            f"{summary['start_frame'] + summary['frames'] - 1} of {summary['movie']}; "
            f"Verilog: {summary['verilog']}",
        ]
    )


STAGE = Stage(
    name="flight",
    folder="flight",
    help="the flight trigger (core, stack, coincidence) as Verilog, co-simulated in Verilator",
    description=__doc__,
    add_options=add_options,
    run=run,
    render=render,
    inputs=(
        Input("export", "export", "folder written by `uvhunt export` (golden.npz, manifest)"),
        Input(
            "movie",
            "simulate",
            "session folder, .npy, .npz or .root movie streamed through the trigger",
            inside="session_00",
        ),
    ),
    out_help="flight trigger folder (replaced)",
    optional=True,
)
