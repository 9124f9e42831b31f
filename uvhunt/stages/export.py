"""Export the QAT model to QONNX (cleaned as hls4ml expects), build the integer golden model
from that file, and check brevitas = QONNX = golden, bit for bit."""

import time
from pathlib import Path

import numpy as np

from uvhunt._core.atomic import atomic_dir, check_output, write_json
from uvhunt._core.errors import UvhuntError
from uvhunt.console import quality_sentence, table
from uvhunt.detection.operating_point import (
    DEFAULT_FALSE_EVENTS_PER_HOUR,
    operating_threshold,
    session_movies,
)
from uvhunt.detection.stack_coincidence import describe
from uvhunt.euso.window_store import open_window_dataset
from uvhunt.quant.chain import compare_chain
from uvhunt.quant.checkpoint import file_sha256, load_models
from uvhunt.quant.golden import GoldenMLP
from uvhunt.quant.qonnx_io import export_qonnx_model
from uvhunt.quant.vectors import make_vectors
from uvhunt.stages.stage import Input, Stage

WINDOW_OTHERS = 10_000
"""Windows drawn uniformly (besides every meteor window) to check through the chain; the data
set need not be labelled (real data)."""
THROUGHPUT_VECTORS = 1_000_000


def _real_windows(folder: Path, seed: int) -> tuple[np.ndarray, str]:
    dataset = open_window_dataset(folder)
    label = np.asarray(dataset.label)
    meteors = np.flatnonzero(label == 1)
    others = np.flatnonzero(label != 1)
    drawn = np.random.default_rng(seed).choice(
        others, min(WINDOW_OTHERS, others.size), replace=False
    )
    index = np.unique(np.concatenate([meteors, drawn]))
    return np.asarray(dataset.values[index]), dataset.meta["units"]


def run(args, progress) -> dict:
    model_folder, windows, out, seed = args.model, args.windows, args.out, args.seed
    check_output(out, [model_folder, windows, args.sessions])
    if not args.false_events_per_hour > 0:
        raise UvhuntError(
            f"the false-event rate must be above 0 (got {args.false_events_per_hour})",
            fix=f"for example {DEFAULT_FALSE_EVENTS_PER_HOUR:g}",
            setting="false_events_per_hour",
        )
    model_config, _, _, quant_model, _ = load_models(model_folder)
    sessions = session_movies(args.sessions)
    if not sessions:
        raise UvhuntError(
            "no session folders (session_*) to set the operating threshold on",
            path=args.sessions,
            fix="give the folder written by `uvhunt simulate` (the model's training sessions)",
        )
    real, units = _real_windows(windows, seed)
    with atomic_dir(out) as tmp:
        onnx_path = export_qonnx_model(quant_model, model_config, tmp / "model.onnx")
        golden = GoldenMLP.from_qonnx(onnx_path).compile()
        golden.write(tmp / "golden.npz")
        vectors = make_vectors(golden, model_config, seed)
        vectors["windows"] = model_config.preprocessing(real, units)
        chain = compare_chain(quant_model, onnx_path, golden, vectors)
        bad = [r for r in chain if r["brevitas_mismatches"] or r["qonnx_mismatches"]]
        if bad:
            raise UvhuntError(
                f"the chain is not bit-exact: {bad}",
                path=model_folder,
                fix="report this as a bug, with the model folder",
            )
        stress = (
            np.random.default_rng(seed)
            .integers(
                golden.input_quant.low,
                golden.input_quant.high + 1,
                (THROUGHPUT_VECTORS, model_config.inputs),
            )
            .astype(np.int32)
        )
        start = time.perf_counter()
        golden.predict_int(stress)
        throughput = THROUGHPUT_VECTORS / (time.perf_counter() - start)
        try:
            operating = operating_threshold(
                golden, model_config, sessions, args.false_events_per_hour, progress
            )
        except ValueError as exc:
            raise UvhuntError(
                str(exc), path=args.sessions, fix="give simulated sessions (with truth)"
            ) from exc
        manifest = {
            "model": str(model_folder),
            "model_hashes": {
                n: file_sha256(Path(model_folder) / n) for n in ("config.json", "qat.pt")
            },
            "qonnx": {"file": "model.onnx", "sha256": file_sha256(onnx_path)},
            "golden": {
                "file": "golden.npz",
                "sha256": file_sha256(tmp / "golden.npz"),
                **golden.describe(),
            },
            "model_config": model_config.to_dict(),
            "chain": chain,
            "vectors_compared": sum(r["count"] for r in chain),
            "golden_vectors_per_second": round(throughput),
            "operating_threshold": operating,
        }
        write_json(tmp / "manifest.json", manifest)
    return {"out": str(out), **manifest}


def add_options(p) -> None:
    p.add_argument(
        "--false-events-per-hour",
        type=float,
        default=DEFAULT_FALSE_EVENTS_PER_HOUR,
        help="the operating point: the stored threshold is the lowest score whose false events "
        "on the sessions come to at most this many per hour of data",
    )
    p.add_argument("--seed", type=int, default=0, help="seeds the stress vectors")


def render(summary: dict) -> str:
    rows = [
        [r["vectors"], r["count"], r["brevitas_mismatches"], r["qonnx_mismatches"]]
        for r in summary["chain"]
    ]
    return "\n".join(
        [
            table(rows, ["vectors", "count", "brevitas ≠ golden", "QONNX ≠ golden"]),
            "",
            f"{summary['vectors_compared']:,} vectors: brevitas = QONNX = golden, bit for bit",
            f"golden model: {summary['golden_vectors_per_second']:,} vectors/s",
            _operating_line(summary["operating_threshold"]),
            f"QONNX and golden model written to {summary['out']}",
        ]
    )


def _operating_line(o: dict) -> str:
    return (
        f"operating threshold: score > {o['score']} (logit {o['logit']:.3f}) for at most "
        f"{o['false_events_per_hour_target']:g} false events per hour"
        + (f" at {o['confidence']:.0%} confidence" if "confidence" in o else "")
        + f", set on {len(o['sessions'])} sessions; there: {quality_sentence(o['measured'])}"
        + (
            f"; peak gate: code > {o['peak_gate']['code']} (z > {o['peak_gate']['z']:.3f}), "
            f"there: {quality_sentence(o['peak_gate']['measured'])}"
            if "peak_gate" in o
            else ""
        )
        + (
            f"; the trigger core (either bit, set together: score > {o['core']['score']}, "
            f"code > {o['core']['gate_code']}), there: {quality_sentence(o['core']['measured'])}"
            if "core" in o
            else ""
        )
        + (
            _unheld(
                o,
                {
                    "the network": o["measured"],
                    "the peak gate": o["peak_gate"]["measured"],
                    "the core": o["core"]["measured"],
                },
            )
            if "confidence" in o
            else ""
        )
        + (
            f"; the track stack trigger (Z > {o['track_stack']['alone']['threshold']} alone; "
            f"with the gate, Z > {o['track_stack']['with_gate']['threshold']} or code > "
            f"{o['track_stack']['with_gate']['gate_code']}; set for the rate at "
            f"{o['track_stack']['confidence']:.0%} confidence), there: "
            f"{quality_sentence(o['track_stack']['with_gate']['measured'])}"
            + _coincidence(o["track_stack"])
            + _unheld(
                o["track_stack"],
                {
                    k: o["track_stack"][k]["measured"]
                    for k in ("alone", "with_gate", "coincidence")
                    if k in o["track_stack"]
                },
            )
            if "track_stack" in o
            else ""
        )
        + (
            f"; the flight design (every bit: the network's at score > {o['flight']['score']}, "
            f"set beside the stack trigger's three), there: "
            f"{quality_sentence(o['flight']['measured'])}"
            + _unheld(o, {"the flight design": o["flight"]["measured"]})
            if "flight" in o
            else ""
        )
    )


def _coincidence(point: dict) -> str:
    """The stack–gate coincidence's thresholds and figures beside the pair, if stored."""
    met = point.get("coincidence")
    if met is None:
        return ""
    return f"; or their coincidence ({describe(met)}), there: {quality_sentence(met['measured'])}"


def _unheld(point: dict, measured: dict[str, dict]) -> str:
    """Which of an operating point's thresholds (``measured``: name → figures) do not hold
    the rate at its confidence, and why, if any."""
    unheld = [name for name, figures in measured.items() if not figures["held"]]
    if not unheld:
        return ""
    if point["hours"] < point["hours_needed"]:
        why = (
            f"{point['hours']:.2f} h of sessions, at least {point['hours_needed']:.2f} h needed "
            "with no false event; give longer sessions"
        )
    else:
        why = "; ".join(
            f"{name}: up to {measured[name]['upper_limit_per_hour']:.1f} per hour"
            for name in unheld
        )
    return f" (NOT held at {point['confidence']:.0%} confidence: {why})"


STAGE = Stage(
    name="export",
    folder="export",
    help="export the QAT model to QONNX and build the integer golden model",
    description=__doc__,
    add_options=add_options,
    run=run,
    render=render,
    inputs=(
        Input("model", "train", "model folder written by `uvhunt train`"),
        Input("windows", "windows", "data set whose windows are also checked through the chain"),
        Input(
            "sessions",
            "simulate",
            "simulated sessions (with truth) on which the operating threshold is set: the "
            "model's training sessions",
        ),
    ),
    out_help="export folder (replaced)",
)
