"""The streaming trigger core: D3 frames in, per-pixel scores and a trigger map out. The
exported model's integer network, with the per-pixel 48-frame history in block RAM, the
preprocessing in hardware and a time-multiplexed multiply-accumulate engine, described in
Amaranth and written as Verilog (simulation) and RTLIL (synthesis) into the firmware folder.
It is co-simulated with cocotb in Verilator on a simulated session (every score, trigger bit
and frame count equal to the golden scoring of `uvhunt detect`; gaps, back-pressure,
extreme counts, threshold changes, a reset mid-frame, a pixel mask written at run time) and
synthesized with Yosys for the XC7Z030: LUTs, flip-flops, DSP48, block RAM (history and
weights apart), LUT levels, and the cycles per frame against the D3 frame time. ``--mask
FILE`` sets the initial pixel mask: known dead and hot pixels whose trigger bit is always 0."""

import math
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

from uvhunt._core.atomic import atomic_dir, check_output, write_json
from uvhunt._core.errors import UvhuntError
from uvhunt._core.simulators import SIMULATORS, find_simulator
from uvhunt._core.tools import find_hls_tool, missing_tool_message
from uvhunt.console import say, table
from uvhunt.detection.operating_point import core_thresholds, stored_threshold
from uvhunt.detection.peak_gate import PeakGateTrigger
from uvhunt.detection.stack_scan import stored_coincidence
from uvhunt.euso.pixel_mask import PixelMask, no_mask, read_mask
from uvhunt.euso.readers import open_movie
from uvhunt.firmware_tests.core_reference import GATE_NEVER, CoreReference
from uvhunt.firmware_tests.core_testbench import CLOCK_NS, PACKED_OUTPUTS
from uvhunt.firmware_tests.seu_plan import PLACES
from uvhunt.hls.core_build import (
    DEFAULT_MITIGATION,
    MITIGATIONS,
    REAL_TIME_MARGIN,
    SYNTHESIS_READ,
    CoreConfig,
    choose_lanes,
    core_model,
    cycles_available,
    make_core,
    write_core,
)
from uvhunt.hls.core_hls import build_core_project, compile_csim, run_csim
from uvhunt.hls.netlist import bram_by_memory, logic_levels
from uvhunt.hls.parts import DEFAULT_PART
from uvhunt.hls.resources import run_synthesis
from uvhunt.hls.trigger_core import TOP
from uvhunt.quant.golden import read_export
from uvhunt.quant.preprocess import MAX_RAW, raw_counts
from uvhunt.sim.junit import junit_verdicts, test_results
from uvhunt.sim.runner import run_cocotb
from uvhunt.stages.core_seu import core_price, run_levels
from uvhunt.stages.stage import Input, Stage

TEST_MODULE = "uvhunt.firmware_tests.core_tests"
TESTS = (
    "session_back_to_back",
    "gaps_backpressure_and_threshold_changes",
    "extreme_counts",
    "reset_mid_frame_then_restart",
    "mask_written_at_run_time",
)
CHECK_FRAMES = 50
"""Frames of the gap, extreme-count and reset streams (the 48th frame on has windows)."""
TRIGGER_FRACTION = 0.01
"""The check's threshold: the score exceeded by this fraction of the streamed windows, so
that its trigger bits take both values (in flight the register holds the operating
threshold)."""
FLIGHT_L2 = {"luts": 1014, "flip_flops": 564, "dsps": 0, "bram36": 29.0}
"""The Mini-EUSO flight L2 trigger's Vivado HLS report for xc7z030ffg676-2 (58 BRAM18)."""
DEFAULT = CoreConfig()
SEU_FAULTS = 200
"""Single-event upsets per fault place in the core stage's campaign (5 places: 1,000)."""


def add_options(p) -> None:
    d = DEFAULT
    p.add_argument("--pixels", type=int, default=d.pixels, help="pixels per frame (48 × 48)")
    p.add_argument(
        "--lanes",
        type=int,
        default=d.lanes,
        help="multiply-accumulate lanes (even); 0: the fewest that meet the D3 need with a "
        f"margin of {REAL_TIME_MARGIN}",
    )
    p.add_argument("--clock-mhz", type=float, default=d.clock_mhz, help="clock, MHz")
    p.add_argument(
        "--stream-frames",
        type=int,
        default=56,
        help="frames of the movie streamed back to back (windows: frames − 47 per pixel)",
    )
    p.add_argument("--simulator", default="verilator", help=f"one of {', '.join(SIMULATORS)}")
    p.add_argument(
        "--strict", action="store_true", help="refuse a core that misses real time (not warn)"
    )
    p.add_argument(
        "--synth",
        action="store_true",
        help="also run Vitis HLS synthesis of the HLS core (needs vitis_hls on PATH)",
    )
    p.add_argument("--seed", type=int, default=0, help="seeds the gaps and back-pressure")
    p.add_argument(
        "--seu-faults",
        type=int,
        default=SEU_FAULTS,
        help="single-event upsets injected per fault place (weight ROM, history, datapath, "
        "control, mask); 0: no campaign",
    )
    p.add_argument(
        "--seu-pixels",
        type=int,
        default=2,
        help="pixels of the campaign's core (same model, lanes, arithmetic and control; "
        "a shorter history)",
    )
    p.add_argument(
        "--seu-frames", type=int, default=2, help="frames observed after the injection frame"
    )
    p.add_argument(
        "--seu-places",
        default=",".join(PLACES),
        help=f"comma-separated fault places, of {', '.join(PLACES)}",
    )
    p.add_argument("--seu-seed", type=int, default=0, help="seeds the campaign's faults")
    p.add_argument(
        "--mitigation",
        choices=MITIGATIONS,
        default=DEFAULT_MITIGATION,
        help="single-event-upset mitigation: none; ecc (the weight and bias ROMs stored twice "
        "with parity, SECDED on the history: corrected on every read, flagged on the beat); "
        "ecc_tmr (and the control registers tripled); parity_tmr (as ecc_tmr, a parity bit per "
        "history sample: an upset there flagged, not corrected)",
    )
    p.add_argument(
        "--mask",
        default=None,
        metavar="FILE",
        help="the pixel mask's initial value: a 48×48 file (.npy of bools or 0/1, or text of 48 "
        "lines of 48 digits; 1 = the pixel never triggers); default: no pixel masked",
    )


def run(args, progress) -> dict:
    out = Path(args.out)
    check_output(out, [args.export, args.movie])
    try:
        config = CoreConfig(args.pixels, args.lanes, args.clock_mhz).validate()
    except ValueError as exc:
        raise UvhuntError(f"invalid core setting: {exc}", fix="see `uvhunt core --help`") from exc
    mask = no_mask() if args.mask is None else read_mask(Path(args.mask))
    golden, model_config = read_export(Path(args.export))
    length = model_config.length
    if args.stream_frames < length:
        raise UvhuntError(
            f"--stream-frames {args.stream_frames} is shorter than one window ({length} frames)",
            fix=f"use --stream-frames {length + 8} or more",
        )
    seu_places = _seu_places(args)
    try:
        model = core_model(golden, model_config.preprocessing)
        lanes, per_pixel = choose_lanes(model, config)
        core = make_core(model, config.pixels, lanes, mask.flat(config.pixels), args.mitigation)
    except ValueError as exc:
        raise UvhuntError(
            f"the trigger core cannot map this model: {exc}",
            path=Path(args.export) / "golden.npz",
            fix="export a 48-input MLP with 8-bit inputs and activations and weights of at "
            "most 6 bits (`uvhunt train` defaults)",
        ) from exc
    per_frame, available = per_pixel * config.pixels, cycles_available(config.clock_mhz)
    margin = available / per_frame
    if margin < REAL_TIME_MARGIN:
        message = (
            f"{lanes} lanes take {per_frame:,} cycles per frame of the {available:,} available "
            f"at {config.clock_mhz:g} MHz: margin {margin:.2f}, below {REAL_TIME_MARGIN}"
        )
        if args.strict:
            raise UvhuntError(message, fix="use more --lanes, a faster --clock-mhz or --pixels")
        say(f"core: warning: {message}", args.quiet)
    start = time.perf_counter()
    raw = _stream(Path(args.movie), config.pixels, args.stream_frames)
    with atomic_dir(out) as tmp:
        description = write_core(
            core,
            tmp,
            {
                "top": TOP,
                "pixels": config.pixels,
                "length": length,
                "lanes": lanes,
                "history_bits": model["history_bits"],
                "preprocessing": model_config.preprocessing.to_dict(),
                "clock_mhz": config.clock_mhz,
                "cycles_per_pixel": per_pixel,
                "cycles_per_frame": per_frame,
                "cycles_available": available,
                "real_time_margin": margin,
                "mask": _mask_description(mask, config.pixels),
                "mitigation": args.mitigation,
                "interface": INTERFACE,
            },
        )
        golden.write(tmp / "golden.npz")
        operating = stored_threshold(Path(args.export))
        operating_score, gate_code = core_thresholds(operating)
        coincidence = stored_coincidence(operating, Path(args.export))
        low_code = None if coincidence is None else coincidence["gate_code"]
        streams = _stimulus(
            raw,
            golden,
            model_config,
            args.seed,
            operating_score,
            mask.flat(config.pixels),
            gate_code,
            low_code,
        )
        np.savez(tmp / "stream.npz", **streams)
        found = find_simulator(args.simulator, tmp / "bin")
        say(
            f"core: {lanes} lanes, {per_frame:,} cycles per frame of {available:,}; "
            f"simulating {raw.shape[0]} frames × {raw.shape[1]:,} pixels in {found.name} "
            f"(log: {out / 'sim.log'})",
            args.quiet,
        )
        run = run_cocotb(
            [tmp / f"{TOP}.v"],
            TOP,
            TEST_MODULE,
            TESTS,
            found,
            tmp,
            {
                "UVHUNT_GOLDEN": str((tmp / "golden.npz").resolve()),
                "UVHUNT_CORE": str((tmp / "core.json").resolve()),
                "UVHUNT_STREAM": str((tmp / "stream.npz").resolve()),
            },
            public=(),  # the stream needs the wrapper's ports only
            long_run=True,
            clock=("clk", CLOCK_NS),
            packed=PACKED_OUTPUTS,
        )
        verdicts, results = junit_verdicts(run.junit), test_results(run.results)
        say(f"core: Yosys synth_xilinx (log: {out / 'yosys.log'})", args.quiet)
        synthesis = run_synthesis(SYNTHESIS_READ, TOP, tmp, netlist=True)
        netlist = tmp / "netlist.json"
        brams = bram_by_memory(netlist, TOP)
        levels = logic_levels(netlist, TOP)
        netlist.unlink()  # tens of MB; the counts are kept
        seu = None
        if args.seu_faults:
            price = {k: synthesis[k] for k in ("luts", "flip_flops")}
            price["bram36"] = synthesis["ramb36"] + synthesis["ramb18"] / 2
            price["logic_levels"] = levels
            prices = {args.mitigation: price}
            if args.mitigation != "none":  # the unprotected core's price, for comparison
                say("core: Yosys synth_xilinx of the unprotected core", args.quiet)
                work = tmp / "seu" / "none_synth"
                prices["none"] = core_price(model, config.pixels, lanes, "none", work)
            seu = run_levels(
                [args.mitigation],
                tmp / "seu",
                lambda level: say(
                    f"core: SEU campaign ({level}), {args.seu_faults} faults in each of "
                    f"{', '.join(seu_places)} of a {args.seu_pixels}-pixel core",
                    args.quiet,
                ),
                golden=golden,
                preprocessing=model_config.preprocessing,
                model=model,
                lanes=lanes,
                cycles_per_pixel=per_pixel,
                raw=raw,
                simulator=found,
                per_place=args.seu_faults,
                pixels=args.seu_pixels,
                frames_after=args.seu_frames,
                seed=args.seu_seed,
                places=seu_places,
            )
            for level, found_level in seu.items():
                found_level["price"] = prices[level]
            seu["default"] = seu[args.mitigation]
        say("core: the HLS core (hls4ml project, g++ C simulation)", args.quiet)
        hls = _hls_core(args, golden, model_config, config, tmp / "hls", streams)
        session = results.get("session_back_to_back", {})
        summary = {
            "export": str(args.export),
            "movie": str(args.movie),
            **description,
            "windows_compared": sum(r.get("windows", 0) for r in results.values()),
            "outputs_compared": sum(r.get("compared", 0) for r in results.values()),
            "mismatches": sum(r.get("mismatches", 0) for r in results.values()),
            "tests": verdicts,
            "results": results,
            "simulator": found.describe(),
            "build_seconds": round(run.build_seconds, 1),
            "test_seconds": round(run.test_seconds, 1),
            "simulated_frames_per_second": session.get("frames_per_second"),
            "luts": synthesis["luts"],
            "flip_flops": synthesis["flip_flops"],
            "dsps": synthesis["dsps"],
            "bram36": synthesis["ramb36"] + synthesis["ramb18"] / 2,
            "bram36_history": brams["history"],
            "bram36_weights": brams["weights"],
            "bram36_other": brams["other"],
            "logic_levels": levels,
            "yosys": synthesis,
            "flight_l2": FLIGHT_L2,
            "operating_threshold": operating_score,
            "peak_gate": {
                "gate": list(PeakGateTrigger(model_config.length).gate),
                "threshold_code": gate_code,
                "low_threshold_code": low_code,
                "triggers": sum(r.get("gate_triggers", 0) for r in results.values()),
                "low_triggers": sum(r.get("gate_lows", 0) for r in results.values()),
                "note": "m_gate_trig and m_gate_low beside m_trig; the HLS core has the "
                "network only",
            },
            "hls": hls,
            "seu": seu,
            "seconds": round(time.perf_counter() - start, 1),
        }
        write_json(tmp / "summary.json", summary)
        shutil.rmtree(tmp / "bin", ignore_errors=True)
        shutil.rmtree(tmp / "build", ignore_errors=True)
    failed = [name for name, verdict in verdicts.items() if verdict != "passed"]
    if hls["mismatches"]:
        raise UvhuntError(
            f"the HLS core's C simulation differs from the golden scoring on "
            f"{hls['mismatches']} outputs ({hls['differing']})",
            path=out / "hls",
            fix="report this as a bug with the export",
        )
    if failed or summary["mismatches"] or set(verdicts) != set(TESTS):
        raise UvhuntError(
            f"the trigger core differs from the golden model: {summary['mismatches']} outputs "
            f"differ; tests not passed: {', '.join(failed) or 'none'}",
            path=out / "results.xml",
            fix=f"read {out / 'sim.log'} and the results/ folder",
        )
    return {"out": str(out), **summary}


INTERFACE = {
    "input": "s_tdata (raw D3 sum, 22 bits unsigned), s_tvalid/s_tready, s_tuser (first pixel "
    "of a frame), s_tlast (last pixel); pixels row by row, frame after frame",
    "threshold": "threshold (signed, score units), read at each output",
    "output": "one beat per input pixel, m_tvalid/m_tready: m_score (the golden accumulator "
    "of the window ending at this frame), m_trig (score > threshold), m_window_valid (0 in "
    "the first 47 frames: no window, score 0, no trigger), m_tuser/m_tlast, m_count (pixels "
    "triggered so far in the frame; the frame's total on m_tlast), m_frame_trig",
    "reset": "rst, synchronous: empties the history (the next 47 frames give no window)",
    "mask": "mask_we, mask_addr (pixel), mask_data (1 = never triggers): one pixel's mask bit "
    "written per clock, at any time (taking effect for pixels accepted after it); a masked "
    "pixel gives m_trig = 0 and its score; reset keeps the mask",
    "upsets": "m_seu_corrected (the pixel read a word whose flipped bit the ECC corrected), "
    "m_seu_detected (a word with an error it could not correct: the beat is suspect); both 0 "
    "without mitigation",
}


def _seu_places(args) -> tuple[str, ...]:
    places = tuple(p.strip() for p in args.seu_places.split(",") if p.strip())
    unknown = sorted(set(places) - set(PLACES))
    if unknown or not places:
        raise UvhuntError(
            f"--seu-places names unknown places: {', '.join(unknown) or '(none given)'}",
            fix=f"use places among {', '.join(PLACES)}",
        )
    if args.seu_faults < 0 or args.seu_frames < 1 or not 1 <= args.seu_pixels <= args.pixels:
        raise UvhuntError(
            f"invalid SEU campaign: --seu-faults {args.seu_faults}, --seu-frames "
            f"{args.seu_frames}, --seu-pixels {args.seu_pixels}",
            fix="faults >= 0, frames >= 1, 1 <= pixels <= --pixels",
        )
    if args.seu_faults and args.stream_frames < 49 + args.seu_frames:
        raise UvhuntError(
            f"--stream-frames {args.stream_frames} is too short for the SEU campaign",
            fix=f"use --stream-frames {49 + args.seu_frames} or more, or fewer --seu-frames",
        )
    return places


def _mask_description(mask: PixelMask, pixels: int) -> dict:
    return {
        "source": mask.source,
        "masked_pixels": int(mask.flat(pixels).sum()),
        "masked_focal_surface": mask.count,
        "excluded": [[r, c] for r, c in mask.describe()["excluded"] if r * 48 + c < pixels],
        "rule": "a masked pixel's trigger bit is always 0; its score is still put out",
    }


def _hls_core(
    args, golden, model_config, config: CoreConfig, folder: Path, streams: dict[str, np.ndarray]
):
    """The HLS core's project, C-simulated on the session, the extreme-count and the
    threshold-change streams back to back (reset before each), then the extreme counts again
    with the rewritten mask loaded, against the golden scoring."""
    budget = math.floor(cycles_available(config.clock_mhz) / (REAL_TIME_MARGIN * config.pixels))
    project = build_core_project(
        Path(args.export) / "model.onnx",
        golden,
        model_config.preprocessing,
        folder,
        config.pixels,
        budget,
        DEFAULT_PART,
        config.clock_mhz,
        streams["mask"],
    )
    executable, compile_seconds = compile_csim(folder)
    reference = CoreReference(golden, model_config.preprocessing)
    start = time.perf_counter()
    parts = [
        (streams[n], streams[f"{n}_thresholds"], streams["mask"])
        for n in ("session", "extremes", "varied")
    ]
    parts.append((streams["extremes"], streams["extremes_thresholds"], streams["rewritten_mask"]))
    raw = np.concatenate([r for r, _, _ in parts])
    resets = np.concatenate([np.arange(len(r)) == 0 for r, _, _ in parts])
    loads = {len(raw) - len(parts[-1][0]): streams["rewritten_mask"]}  # frame: mask loaded
    thresholds = np.concatenate([t for _, t, _ in parts])
    got = run_csim(executable, raw, thresholds, resets, folder, loads)
    csim_seconds = time.perf_counter() - start
    executable.unlink()
    differing, windows, first = {}, 0, 0
    for r, thresholds, mask in parts:
        want = reference.expected(r, thresholds, mask)
        rows = slice(first, first + len(r))
        for name in ("window_valid", "score", "trigger", "count"):
            differing[name] = differing.get(name, 0) + int(
                np.count_nonzero(got[name][rows] != getattr(want, name))
            )
        windows += int(want.window_valid.sum()) * r.shape[1]
        first += len(r)
    interval = project["pixel_interval_clocks"]
    tool = find_hls_tool("Vitis")
    if tool and args.synth:
        done = subprocess.run(
            [tool, "-f", f"build_{project['top']}.tcl"], cwd=folder, capture_output=True, text=True
        )
        synthesis = {"tool": tool, "status": "done" if done.returncode == 0 else "failed"}
    else:
        synthesis = {"tool": tool, "status": "skipped", "message": missing_tool_message("Vitis")}
    return {
        **project,
        "cycles_per_frame": interval * config.pixels,
        "real_time_margin": cycles_available(config.clock_mhz) / (interval * config.pixels),
        "frames_streamed": len(raw),
        "windows_compared": windows,
        "outputs_compared": int(raw.size),
        "mismatches": sum(differing.values()),
        "differing": differing,
        "compile_seconds": round(compile_seconds, 1),
        "csim_seconds": round(csim_seconds, 1),
        "csim_frames_per_second": round(len(raw) / csim_seconds, 1),
        "synthesis": synthesis,
    }


def _stream(movie_path: Path, pixels: int, frames: int) -> np.ndarray:
    """(frames, pixels) raw integers: the movie's first frames, pixels in row-major order."""
    movie = open_movie(movie_path)
    if movie.frames < frames:
        raise UvhuntError(
            f"the movie has {movie.frames} frames, fewer than --stream-frames {frames}",
            path=movie_path,
            fix="stream fewer frames or a longer movie",
        )
    values = raw_counts(movie.read(0, frames), movie.units).reshape(frames, -1)
    return values[:, :pixels].astype(np.int64)


def _stimulus(
    raw: np.ndarray,
    golden,
    model_config,
    seed: int,
    operating: int | None,
    mask: np.ndarray,
    gate_code: int | None = None,
    low_code: int | None = None,
) -> dict[str, np.ndarray]:
    """The streams of the tests, each with its threshold and the peak gate's two threshold
    codes per frame; the thresholds change among quantiles of the scores (codes) and the
    export's operating thresholds (if it has them; ``low_code``: the stack–gate
    coincidence's code). ``mask``: the core's initial pixel mask; ``rewritten_mask``: the one
    the run-time test writes (every other pixel that triggers in the extreme-count stream,
    the initial mask's pixels live)."""
    reference = CoreReference(golden, model_config.preprocessing)
    length = model_config.length
    scores = reference.scores(raw)[length - 1 :]
    codes = reference.gate_parts(raw)[3][length - 1 :]
    positive = codes[codes >= 0]
    gate_levels = np.quantile(positive, [0.5, 0.9, 0.99]).astype(np.int64) if positive.size else []
    # codes themselves too: a window whose code equals the threshold must not trigger
    gate_levels = np.append(gate_levels, np.unique(positive)[-3:]).astype(np.int64)
    gate_level = int(np.quantile(positive, 0.9)) if positive.size else 0
    if gate_code is not None:
        gate_levels = np.append(gate_levels, gate_code)
        gate_level = int(gate_code)
    level = int(np.quantile(scores, 1 - TRIGGER_FRACTION))
    rng = np.random.default_rng(seed)
    short = raw[: max(CHECK_FRAMES, length + 2)]
    levels = np.quantile(scores, [0.5, 0.9, 0.99, 0.999]).astype(np.int64)
    if operating is not None:
        levels = np.append(levels, operating)
    extremes = short.copy()
    pixels = extremes.shape[1]
    extremes[:, 0] = 0  # a dead pixel
    extremes[:, 1 % pixels] = MAX_RAW  # a hot pixel
    extremes[::2, 2 % pixels] = MAX_RAW  # full swings every frame
    extremes[1::2, 2 % pixels] = 0
    extremes[length // 2 :, 3 % pixels] += 150_000  # a step beyond the history's clip
    extremes[length - 3, :] = 0  # a frame of zeros, then one at the largest value
    extremes[length - 2, :] = MAX_RAW
    extremes[:, 4 % pixels] = rng.integers(0, MAX_RAW + 1, len(extremes))
    extremes = np.clip(extremes, 0, MAX_RAW)
    # the session's level, or just below the stream's own top 1% where that is lower (a small
    # model's scores tie there): some of its pixels trigger, so the run-time mask masks some
    own = reference.scores(extremes)[length - 1 :]
    extremes_level = min(level, int(np.quantile(own, 1 - TRIGGER_FRACTION)) - 1)
    extremes_thresholds = np.full(len(extremes), extremes_level)
    triggering = reference.expected(extremes, extremes_thresholds).trigger.any(axis=0)
    rewritten = np.zeros(pixels, np.uint8)
    rewritten[np.flatnonzero(triggering & ~mask)[::2]] = 1
    streams = {
        "mask": np.asarray(mask, np.uint8),
        "rewritten_mask": rewritten,
        "session": raw,
        "session_thresholds": np.full(len(raw), level),
        "session_gate_thresholds": np.full(len(raw), gate_level),
        "varied": short,
        "varied_thresholds": rng.choice(levels, len(short)),
        "varied_gate_thresholds": rng.choice(gate_levels, len(short)),
        "extremes": extremes,
        "extremes_thresholds": extremes_thresholds,
        "extremes_gate_thresholds": rng.choice(np.append(gate_levels, 0), len(extremes)),
    }
    # the gate's low code (drawn last: the streams above stay as they were): the export's
    # (the coincidence's) or the median code in the session; in the others, each frame a code
    # of its own windows or one below it, so the bit meets a tie and fires just above it
    low_level = int(np.quantile(positive, 0.5)) if positive.size else GATE_NEVER
    low_level = low_level if low_code is None else int(low_code)
    streams["session_gate_low_thresholds"] = np.full(len(raw), low_level)
    for name in ("varied", "extremes"):
        lows = np.full(len(streams[name]), GATE_NEVER)
        for t, frame in enumerate(reference.gate_parts(streams[name])[3]):
            if (frame >= 0).any():
                lows[t] = max(rng.choice(frame[frame >= 0]) - rng.integers(2), 0)
        streams[f"{name}_gate_low_thresholds"] = lows
    return streams


def render(summary: dict) -> str:
    rows = [
        ["LUTs", f"{summary['luts']:,}", f"{FLIGHT_L2['luts']:,}"],
        ["flip-flops", f"{summary['flip_flops']:,}", f"{FLIGHT_L2['flip_flops']:,}"],
        ["DSP48", summary["dsps"], FLIGHT_L2["dsps"]],
        [
            "BRAM36",
            f"{summary['bram36']:g} (history {summary['bram36_history']:g}, weights "
            f"{summary['bram36_weights']:g})",
            f"{FLIGHT_L2['bram36']:g}",
        ],
        ["LUT levels", summary["logic_levels"], ""],
    ]
    tests = ", ".join(f"{n} {v}" for n, v in summary["tests"].items())
    h = summary["hls"]
    return "\n".join(
        [
            table(rows, ["resource", "trigger core (Yosys)", "flight L2 trigger (Vivado HLS)"]),
            "",
            f"{summary['pixels']:,} pixels, {summary['lanes']} lanes: "
            f"{summary['cycles_per_frame']:,} cycles per frame of {summary['cycles_available']:,}"
            f" at {summary['clock_mhz']:g} MHz (real-time margin "
            f"{summary['real_time_margin']:.2f})",
            f"tests: {tests}",
            f"{summary['windows_compared']:,} windows ({summary['outputs_compared']:,} outputs) "
            f"compared with the golden scoring, {summary['mismatches']} mismatches; "
            f"{summary['simulator']['name']} build {summary['build_seconds']} s, "
            f"{summary['simulated_frames_per_second']} frames/s simulated",
            f"HLS core ({h['top']} around hls4ml's network, reuse factors "
            f"{'/'.join(map(str, h['reuse_factors']))}): {h['pixel_interval_clocks']:,} clocks per "
            f"pixel, margin {h['real_time_margin']:.2f}; g++ C simulation of "
            f"{h['frames_streamed']} frames: {h['windows_compared']:,} windows, "
            f"{h['mismatches']} mismatches; Vitis synthesis {h['synthesis']['status']}",
            f"pixel mask: {summary['mask']['masked_pixels']} of {summary['pixels']:,} pixels "
            f"masked ({summary['mask']['source']}), writable at run time",
            *_seu_lines(summary.get("seu")),
            f"Verilog, RTLIL, the HLS project (hls/) and summary in {summary['out']} "
            f"({summary['seconds']} s)",
        ]
    )


def _seu_lines(seu: dict | None) -> list[str]:
    if not seu:
        return []
    levels = {k: v for k, v in seu.items() if k != "default"}
    rows = [
        [level, place, c["injected"], c["masked"], c["corrected"], c["detected"]]
        + [c["silent"], c["hang"]]
        for level, found in levels.items()
        for place, c in found["places"].items()
    ]
    none, default = seu["none"], seu["default"]
    head = ["mitigation", "place", "injected", "masked", "corrected", "detected", "silent"]
    lines = [
        "",
        f"single-event upsets ({none['pixels']}-pixel core, seed {none['seed']}; "
        f"default mitigation: {default['mitigation']}):",
        table(rows, [*head, "hang"]),
    ]
    if default is not none:
        extra = default["price"]["luts"] - none["price"]["luts"]
        lines.append(
            f"price of {default['mitigation']}: {default['price']['luts']:,} LUTs against "
            f"{none['price']['luts']:,} unprotected ({extra:+,}, "
            f"{extra / none['price']['luts']:+.1%}), BRAM36 {default['price']['bram36']:g} "
            f"against {none['price']['bram36']:g}"
        )
    return [*lines, ""]


STAGE = Stage(
    name="core",
    folder="firmware/core",
    help="the streaming trigger core (Amaranth): D3 frames in, scores and a trigger map out",
    description=__doc__,
    add_options=add_options,
    run=run,
    render=render,
    inputs=(
        Input("export", "export", "folder written by `uvhunt export` (golden.npz, manifest)"),
        Input(
            "movie",
            "simulate",
            "session folder, .npy, .npz or .root movie streamed through the core",
            inside="session_00",
        ),
    ),
    out_help="core folder (replaced); beside the HLS project and the RTL",
)
