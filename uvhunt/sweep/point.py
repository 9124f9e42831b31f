"""One sweep point, as a worker evaluates it: leave-k-sessions-out training and window AUCs
(float and QAT, hence the quantization loss), then the final model (trained on every session)
exported to QONNX and checked bit for bit along the chain — brevitas = QONNX = golden model =
da4ml's adder graph, on the stress vectors and random ones — and priced: da4ml's cost estimate
of the unrolled design, its non-zero weights and signed digits. With the sessions' movies, each
fold's QAT MLP is also judged at the event level (``sweep.events``)."""

import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from da4ml.types import CombLogic

from uvhunt.detection.operating_point import DEFAULT_FALSE_EVENTS_PER_HOUR
from uvhunt.euso.window_store import open_window_dataset
from uvhunt.hls.rtl import RtlConfig, check_trace
from uvhunt.hls.rtl_trace import trace_network
from uvhunt.quant.chain import compare_chain
from uvhunt.quant.config import ModelConfig, TrainConfig
from uvhunt.quant.data import SessionSampler
from uvhunt.quant.golden import GoldenMLP
from uvhunt.quant.hard_negatives import train_mined
from uvhunt.quant.metrics import auc
from uvhunt.quant.qonnx_io import export_qonnx_model
from uvhunt.quant.resource_aware import quantized_cost
from uvhunt.quant.training import prepare, scores
from uvhunt.quant.vectors import make_vectors
from uvhunt.sweep.events import fold_events, point_figures
from uvhunt.sweep.space import Point

RANDOM_VECTORS = 4096
"""Random input vectors of the chain check, on top of the stress groups."""


@dataclass(frozen=True)
class PointTask:
    """Everything a worker needs for one point (picklable)."""

    point: Point
    key: str
    windows: str
    """The window data set's folder."""
    folder: str
    """Where the point's final model goes (model.onnx, golden.npz)."""
    model: ModelConfig
    """The base model config: preprocessing, activation and bias bits."""
    train: TrainConfig
    folds: int
    test_negatives: int
    movies: dict[int, str] | None = None
    """Each session's movie folder by source index, for the event level; None: no events."""
    false_events_per_hour: float = DEFAULT_FALSE_EVENTS_PER_HOUR
    """The event level's operating point, set on each fold's training sessions."""


def fold_groups(sessions: list[int], folds: int) -> list[list[int]]:
    """Sessions held out together, fold by fold (round robin): k = len / folds per fold."""
    folds = min(folds, len(sessions))
    return [sessions[i::folds] for i in range(folds)]


def point_configs(task: PointTask) -> tuple[ModelConfig, TrainConfig]:
    p = task.point
    model = replace(
        task.model,
        hidden=p.hidden,
        layer_weight_bits=p.weight_bits,
        preprocessing=p.preprocessing(task.model.preprocessing),
    ).validate()
    train = replace(task.train, sparsity=p.sparsity, resource_penalty=p.penalty).validate()
    return model, train


def evaluate_point(task: PointTask) -> dict:
    """The point's figures (JSON-able); raises on any failure, mismatches included."""
    torch.set_num_threads(1)
    start = time.perf_counter()
    model_config, train_config = point_configs(task)
    sampler = SessionSampler(open_window_dataset(task.windows))
    sessions = sampler.sessions
    qat_auc, float_auc, events = [], [], []
    for fold, held in enumerate(fold_groups(sessions, task.folds)):
        rng = np.random.default_rng([train_config.seed, fold])
        others = [s for s in sessions if s not in held]
        result, _ = train_mined(sampler, others, model_config, train_config, rng)
        test = sampler.draw(held, task.test_negatives, rng)
        inputs = prepare(test, model_config)
        qat_auc.append(auc(test.label, scores(result.quant_model, inputs.integer)))
        float_auc.append(auc(test.label, scores(result.float_model, inputs.real)))
        if task.movies is not None:
            movies = {int(k): Path(v) for k, v in task.movies.items()}
            figures = fold_events(
                result.quant_model, model_config, movies, others, held, task.false_events_per_hour
            )
            events.append(figures)
    final, _ = train_mined(
        sampler,
        sampler.labelled_sessions,
        model_config,
        train_config,
        np.random.default_rng(train_config.seed),
    )
    folder = Path(task.folder)
    folder.mkdir(parents=True, exist_ok=True)
    onnx = export_qonnx_model(final.quant_model, model_config, folder / "model.onnx")
    golden = GoldenMLP.from_qonnx(onnx).compile()
    golden.write(folder / "golden.npz")
    comb = trace_network(golden, model_config.preprocessing.peak_input)
    chain = chain_check(final.quant_model, onnx, golden, comb, model_config)
    pipeline_cost = unrolled_estimate(comb)
    weights = sum(layer.weight.size for layer in golden.layers)
    zeros = sum(int((layer.weight == 0).sum()) for layer in golden.layers)
    return {
        "qat_auc": float(np.mean(qat_auc)),
        "float_auc": float(np.mean(float_auc)),
        "quantization_loss": float(np.mean(float_auc) - np.mean(qat_auc)),
        **(point_figures(events) if events else {}),
        "event_rate": task.false_events_per_hour if events else None,
        "event_thresholds_per_fold": [e["threshold"] for e in events],
        "qat_auc_per_fold": qat_auc,
        "float_auc_per_fold": float_auc,
        "folds": [[int(s) for s in g] for g in fold_groups(sessions, task.folds)],
        **pipeline_cost,
        **quantized_cost(final.quant_model, model_config),
        "weights": weights,
        "zero_weights": zeros,
        "chain_vectors": chain["vectors"],
        "chain_mismatches": chain["mismatches"],
        "seconds": round(time.perf_counter() - start, 1),
    }


def chain_check(model, onnx: Path, golden: GoldenMLP, comb: CombLogic, config: ModelConfig) -> dict:
    """brevitas, QONNX and da4ml's adder graph against the golden model on the stress
    vectors and random ones; raises AssertionError on any mismatch."""
    vectors = make_vectors(golden, config, seed=7)
    spec = golden.input_quant
    rng = np.random.default_rng(8)
    vectors["random"] = rng.integers(spec.low, spec.high + 1, (RANDOM_VECTORS, config.inputs))
    rows = compare_chain(model, onnx, golden, vectors)
    peak_input = config.preprocessing.peak_input
    trace_rows = check_trace(golden, comb, vectors, peak_input, 9)
    mismatches = sum(r["brevitas_mismatches"] + r["qonnx_mismatches"] for r in rows)
    mismatches += sum(r["mismatches"] for r in trace_rows)
    if mismatches:
        raise AssertionError(f"the exported point is not bit-exact: {mismatches} mismatches")
    checked = sum(r["count"] for r in rows) + sum(r["count"] for r in trace_rows)
    return {"vectors": int(checked), "mismatches": mismatches}


def unrolled_estimate(comb: CombLogic) -> dict:
    """da4ml's estimate of the unrolled one-window-per-clock design ``comb``
    (``trace_network``, with the circuit of the peak input if the model has one): its LUT cost
    figure, register bits and pipeline stages (the ``uvhunt rtl`` settings)."""
    from da4ml.trace.pipeline import to_pipeline

    pipeline = to_pipeline(comb, RtlConfig().latency_cutoff, verbose=False)
    return {
        "da4ml_luts": float(pipeline.cost),
        "da4ml_flip_flops": int(pipeline.reg_bits),
        "da4ml_stages": len(pipeline.solutions),
    }
