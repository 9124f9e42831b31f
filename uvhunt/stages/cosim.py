"""Co-simulate the generated RTL with cocotb in Verilator (default) or Icarus Verilog: stress
vectors, real windows and random vectors back to back, gaps in the input valid, a reset in the
middle of a stream; every output compared exactly with the golden model. Writes a JUnit XML
and a summary (vectors, mismatches, cycles, throughput, RTL versus float ROC AUC)."""

import shutil
import time
from pathlib import Path

import numpy as np

from uvhunt._core.atomic import atomic_dir, check_output, write_json
from uvhunt._core.errors import UvhuntError
from uvhunt._core.simulators import SIMULATORS, find_simulator
from uvhunt.console import accuracy_sentence, say, table
from uvhunt.quant.checkpoint import load_models, load_trained_on
from uvhunt.quant.data import comparison_windows
from uvhunt.quant.golden import GoldenMLP
from uvhunt.quant.metrics import hardware_accuracy
from uvhunt.quant.training import float_logits
from uvhunt.quant.vectors import peak_window_groups, stimulus
from uvhunt.sim.junit import junit_verdicts, test_results
from uvhunt.sim.runner import run_cosim
from uvhunt.stages.rtl import read_design
from uvhunt.stages.stage import Input, Stage

DEFAULT_VECTORS = 50_000
"""Vectors streamed back to back (stress groups, real windows, then random), at least."""
BACK_TO_BACK = "every_vector_back_to_back"


def add_options(p) -> None:
    p.add_argument("--simulator", default="verilator", help=f"one of {', '.join(SIMULATORS)}")
    p.add_argument(
        "--vectors",
        type=int,
        default=DEFAULT_VECTORS,
        help="vectors streamed back to back: the stress groups, the windows, then random "
        "vectors up to this many; fewer thins every group evenly (for Icarus)",
    )
    p.add_argument("--waves", action="store_true", help="record waveforms (and keep the build)")
    p.add_argument("--seed", type=int, default=0, help="seeds the vectors")


def run(args, progress) -> dict:
    rtl, model_folder, windows, out = args.rtl, args.model, args.windows, args.out
    check_output(out, [rtl, model_folder, windows])
    design = read_design(Path(rtl))
    golden = GoldenMLP.read(Path(rtl) / "golden.npz").compile()
    model_config, train_config, float_model, _, _ = load_models(model_folder)
    start = time.perf_counter()
    real = comparison_windows(
        windows, train_config, args.seed, trained_on=load_trained_on(model_folder)
    )
    q_real = model_config.preprocessing(real.values, real.units)
    groups = stimulus(golden, model_config, q_real, args.vectors, args.seed)
    if design.peak_input:  # the design takes the window's codes and computes the peak input
        spec = golden.input_quant
        groups = peak_window_groups(groups, design.inputs, spec.low, spec.high, args.seed)
        q_real = groups["windows"]
    groups, picks = thin(groups, args.vectors)
    kept = picks["windows"]
    q_real, labels = q_real[kept], real.label[kept]
    with atomic_dir(out) as tmp:
        found = find_simulator(args.simulator, tmp / "bin")
        np.savez(tmp / "stimulus.npz", **groups)
        say(
            f"cosim: building the RTL in {found.name} {found.version_text}, then streaming "
            f"{sum(len(g) for g in groups.values()):,} vectors (log: {Path(out) / 'sim.log'})",
            args.quiet,
        )
        run = run_cosim(
            design, found, Path(rtl) / "golden.npz", tmp / "stimulus.npz", tmp, waves=args.waves
        )
        verdicts = junit_verdicts(run.junit)
        results = test_results(run.results)
        if BACK_TO_BACK not in results:
            raise UvhuntError(
                "the back-to-back test wrote no results", path=run.log, fix="read the log"
            )
        stream = results[BACK_TO_BACK]
        outputs = np.load(run.results / f"{BACK_TO_BACK}_outputs.npy")[:, 0]
        names = list(groups)
        first = sum(len(groups[n]) for n in names[: names.index("windows")])
        rtl_real = np.ldexp(
            outputs[first : first + len(q_real)].astype(np.float64), design.output_exponent
        )
        accuracy = hardware_accuracy(
            labels,
            float_logits(float_model, model_config, real.values[kept], real.units),
            rtl_real,
            "rtl",
        )
        compared = sum(r["compared"] for r in results.values())
        mismatches = sum(r["mismatches"] for r in results.values())
        summary = {
            "rtl": str(rtl),
            "simulator": found.describe(),
            "tests": verdicts,
            "vectors": stream["vectors"],
            "groups": stream["groups"],
            "group_mismatches": stream["group_mismatches"],
            "outputs_compared": compared,
            "mismatches": mismatches,
            "latency": stream["latency"],
            "cycles": stream["cycles"],
            "vectors_per_cycle": stream["vectors"] / stream["cycles"],
            "simulation_vectors_per_second": stream["vectors_per_second"],
            "build_seconds": round(run.build_seconds, 1),
            "test_seconds": round(run.test_seconds, 1),
            "accuracy": accuracy,
            "junit": "results.xml",
            "waves": None if run.waves is None else str(run.waves.relative_to(tmp)),
            "seconds": round(time.perf_counter() - start, 1),
        }
        write_json(tmp / "summary.json", summary)
        shutil.rmtree(tmp / "bin", ignore_errors=True)  # the simulator's PATH shim
        if not args.waves:
            shutil.rmtree(tmp / "build", ignore_errors=True)
    failed = [name for name, verdict in verdicts.items() if verdict != "passed"]
    if failed or mismatches:
        raise UvhuntError(
            f"co-simulation failed: {mismatches} outputs differ from the golden model; "
            f"tests not passed: {', '.join(failed) or 'none'}",
            path=Path(out) / "results.xml",
            fix=f"read {Path(out) / 'sim.log'} and the results/ folder",
        )
    return {"out": str(out), **summary}


def thin(
    groups: dict[str, np.ndarray], total: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Every group cut to an evenly spaced share of ``total`` vectors when the groups hold
    more (a slow simulator such as Icarus); each group keeps at least one vector. Returns the
    groups and, per group, the indices kept."""
    size = sum(len(g) for g in groups.values())
    picks = {
        name: np.arange(len(g))
        if size <= total
        else np.unique(np.linspace(0, len(g) - 1, max(1, len(g) * total // size)).astype(int))
        for name, g in groups.items()
    }
    return {name: g[picks[name]] for name, g in groups.items()}, picks


def render(summary: dict) -> str:
    rows = [
        [name, count, summary["group_mismatches"][name]]
        for name, count in summary["groups"].items()
    ]
    a, s = summary["accuracy"], summary["simulator"]
    tests = ", ".join(f"{n} {v}" for n, v in summary["tests"].items())
    return "\n".join(
        [
            table(rows, ["vectors", "count", "RTL ≠ golden"]),
            "",
            f"tests: {tests}",
            f"{summary['outputs_compared']:,} outputs compared, {summary['mismatches']} "
            f"mismatches; {summary['vectors']:,} vectors in {summary['cycles']:,} cycles "
            f"(latency {summary['latency']})",
            f"{s['name']} {s['version']}: build {summary['build_seconds']} s, "
            f"{summary['simulation_vectors_per_second']:,.0f} vectors/s simulated",
            accuracy_sentence(a, "RTL", "rtl_auc"),
            f"RTL logit minus float logit on those windows: mean |Δ| "
            f"{a['logit_deviation_mean']:.3f}, max |Δ| {a['logit_deviation_max']:.3f}",
            f"JUnit XML and summary in {summary['out']}",
        ]
    )


STAGE = Stage(
    name="cosim",
    folder="cosim",
    help="cocotb co-simulation of the RTL (Verilator or Icarus), bit-exact with the golden model",
    description=__doc__,
    add_options=add_options,
    run=run,
    render=render,
    inputs=(
        Input("rtl", "rtl", "folder written by `uvhunt rtl`"),
        Input("model", "train", "model folder (the float model, for the accuracy comparison)"),
        Input("windows", "windows", "window data set: the real windows streamed through the RTL"),
    ),
    out_help="results folder (replaced)",
)
