"""The ``cosim`` stage: the generated RTL built in Verilator (or Icarus) and driven by the
cocotb testbenches of ``firmware_tests``; every output compared exactly with the golden model,
and the RTL's outputs on real windows scored against the float model."""

import shutil
import time
from pathlib import Path

import numpy as np

from quant.checkpoint import load_models
from quant.golden import GoldenMLP
from quant.metrics import auc
from quant.preprocess import float_residual
from quant.training import scores
from quant.vectors import stimulus
from sim.report import junit_verdicts, test_results
from sim.runner import run_cosim
from sim.simulators import find_simulator
from uvhunt.atomic import atomic_dir, check_output, write_json
from uvhunt.comparison_windows import comparison_windows
from uvhunt.console import say
from uvhunt.errors import UvhuntError
from uvhunt.rtl_stage import read_design

DEFAULT_VECTORS = 50_000
"""Vectors streamed back to back (stress groups, real windows, then random), at least."""
BACK_TO_BACK = "every_vector_back_to_back"


def cosim_stage(
    rtl: Path,
    model_folder: Path,
    windows: Path,
    out: Path,
    simulator: str = "verilator",
    vectors: int = DEFAULT_VECTORS,
    waves: bool = False,
    seed: int = 0,
    negatives: int | None = None,
    quiet: bool = False,
) -> dict:
    check_output(out, [rtl, model_folder, windows])
    design = read_design(Path(rtl))
    golden = GoldenMLP.read(Path(rtl) / "golden.npz").compile()
    model_config, train_config, float_model, _, _ = load_models(model_folder)
    start = time.perf_counter()
    extra = {} if negatives is None else {"negatives": negatives}
    real = comparison_windows(windows, train_config, seed, **extra)
    q_real = model_config.preprocessing(real.values, real.units)
    groups, picks = thin(stimulus(golden, model_config, q_real, vectors, seed), vectors)
    kept = picks["windows"]
    q_real, labels = q_real[kept], real.label[kept]
    with atomic_dir(out) as tmp:
        found = find_simulator(simulator, tmp / "bin")
        np.savez(tmp / "stimulus.npz", **groups)
        say(
            f"cosim: building the RTL in {found.name} {found.version_text}, then streaming "
            f"{sum(len(g) for g in groups.values()):,} vectors (log: {Path(out) / 'sim.log'})",
            quiet,
        )
        run = run_cosim(
            design, found, Path(rtl) / "golden.npz", tmp / "stimulus.npz", tmp, waves=waves
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
        float_real = scores(
            float_model,
            float_residual(real.values[kept], real.units, model_config.preprocessing),
        )
        accuracy = {
            "windows": int(len(kept)),
            "meteor_windows": int((labels == 1).sum()),
            "float_auc": _auc(labels, float_real),
            "rtl_auc": _auc(labels, rtl_real),
            "logit_deviation_mean": float(np.mean(np.abs(rtl_real - float_real))),
            "logit_deviation_max": float(np.max(np.abs(rtl_real - float_real))),
        }
        both = accuracy["float_auc"] is not None
        accuracy["quantization_loss"] = (
            accuracy["float_auc"] - accuracy["rtl_auc"] if both else None
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
        if not waves:
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


def _auc(labels: np.ndarray, score: np.ndarray) -> float | None:
    """ROC AUC, or None when the (thinned) windows hold one class only."""
    return auc(labels, score) if len(np.unique(labels)) == 2 else None


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
