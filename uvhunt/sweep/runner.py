"""A design-space sweep on Dask: Optuna asks for points a batch at a time (two objectives:
QAT AUC up, da4ml's LUT estimate down), the cluster evaluates them (``point``), Optuna is
told the results in trial order, so the same seed asks for the same points however many
workers there are; then the points on or near the front are synthesized (``synthesis``).

Every point's results are kept in the cache folder under its key, so a sweep that stopped
resumes where it was: cached points are not evaluated again. A failed point is recorded with
its error (and told to Optuna as failed); the sweep goes on."""

import csv
import hashlib
import json
import logging
import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from uvhunt._core.atomic import atomic_dir, check_output, write_json
from uvhunt._core.cluster import DEFAULT_WORKERS, dask_client, describe, run_tasks, save_logs
from uvhunt._core.progress import ProgressFactory, no_progress
from uvhunt.detection.event_evaluation import labelled_movies
from uvhunt.detection.operating_point import DEFAULT_FALSE_EVENTS_PER_HOUR
from uvhunt.quant.config import ModelConfig, TrainConfig
from uvhunt.sweep.pareto import near_front, pareto_front, plot_front
from uvhunt.sweep.point import PointTask, evaluate_point
from uvhunt.sweep.space import Point, SweepSpace, point_key
from uvhunt.sweep.synthesis import SynthesisTask, core_maps, synthesize_point

SAMPLERS = ("tpe", "random", "grid")
REFERENCES = {
    "default 64-32 w5": Point((64, 32), (5, 5, 5)),
    "uniform 16-8 w4": Point((16, 8), (4, 4, 4)),
}
"""Designs every sweep evaluates first, when the space holds them: today's default model and
the uniform (16, 8) 4-bit design of docs/hardware.md."""
FRONT_FIGURES = (
    "qat_auc",
    "quantization_loss",
    "event_false_per_hour",
    "event_efficiency_brighter_5",
    "event_efficiency_5_6",
)
"""What the summary keeps of a front point besides its design, key and cost."""
LUT_BUDGET = 7860
"""10% of the XC7Z030's LUTs (Yosys, unrolled design)."""


@dataclass(frozen=True)
class SweepConfig:
    trials: int = 24
    """Points asked of the sampler (grid: 0 = the whole grid)."""
    batch: int = 4
    """Points asked at once; results do not depend on the number of workers."""
    sampler: str = "tpe"
    folds: int = 3
    """Leave-k-sessions-out folds (the sessions split round robin)."""
    test_negatives: int = 20_000
    """Not-meteor windows drawn from each fold's held-out sessions."""
    synthesize: str = "front"
    """"front": Yosys for the points on or near the front; "none"; "all"."""
    near_margin: float = 0.002
    """AUC below the front within which a point is synthesized too."""
    core: bool = True
    """Synthesize the trigger core of those points too."""
    seed: int = 0
    seeds: int = 1
    """Training seeds per point (``seed``, ``seed + 1``, …): the point's AUCs and quantization
    loss are their means (``combine_seeds``), its design (final model, LUTs) the first
    seed's. A small network's AUC moves by 0.006–0.016 from seed to seed (docs/hardware.md):
    a floor met at one seed may be that seed's luck."""
    enqueue: tuple[str, ...] = ()
    """Designs (``Point.label`` text) the sampler evaluates first, after the references."""
    events: bool = True
    """Judge each fold's QAT MLP at the event level too (the sessions' movies needed)."""
    false_events_per_hour: float = DEFAULT_FALSE_EVENTS_PER_HOUR
    """The event level's operating point, set on each fold's training sessions."""

    def validate(self) -> "SweepConfig":
        if self.sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)}")
        if self.trials < 0 or (self.trials == 0 and self.sampler != "grid"):
            raise ValueError("trials must be >= 1 (0 only with the grid: the whole grid)")
        if self.batch < 1 or self.folds < 2 or self.test_negatives < 100:
            raise ValueError("batch must be >= 1, folds >= 2 and test_negatives >= 100")
        if self.seeds < 1:
            raise ValueError("seeds must be >= 1")
        if self.synthesize not in ("front", "none", "all") or self.near_margin < 0:
            raise ValueError("synthesize must be front, none or all; near_margin >= 0")
        if self.enqueue and self.sampler == "grid":
            raise ValueError("the grid evaluates every point already: enqueue with tpe or random")
        for text in self.enqueue:
            Point.from_label(text)
        if not self.false_events_per_hour > 0:
            raise ValueError("false_events_per_hour must be > 0")
        return self

    def to_dict(self) -> dict:
        return asdict(self)


def dataset_identity(windows: Path) -> str:
    """The window data set's description (sources, settings, counts), hashed."""
    text = (Path(windows) / "dataset.json").read_bytes()
    return hashlib.sha256(text).hexdigest()[:16]


class PointCache:
    """``<folder>/<key>/result.json`` (the point's figures or error), ``synthesis.json`` and
    the final model's files."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def path(self, key: str) -> Path:
        return self.folder / key

    def get(self, key: str, name: str = "result.json") -> dict | None:
        f = self.path(key) / name
        return json.loads(f.read_text()) if f.is_file() else None

    def put(self, key: str, data: dict, name: str = "result.json") -> None:
        self.path(key).mkdir(parents=True, exist_ok=True)
        write_json(self.path(key) / name, data)


def _study(space: SweepSpace, config: SweepConfig):
    import optuna

    optuna.logging.set_verbosity(logging.WARNING)
    sampler = (
        optuna.samplers.RandomSampler(seed=config.seed)
        if config.sampler == "random"
        else optuna.samplers.TPESampler(seed=config.seed)
    )
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    for point in REFERENCES.values():
        if _in_space(point, space):
            study.enqueue_trial(space.params(point))
    check_enqueued(space, config)
    for text in config.enqueue:
        study.enqueue_trial(space.params(Point.from_label(text)))
    return study


def check_enqueued(space: SweepSpace, config: SweepConfig) -> None:
    """ValueError naming the first design to evaluate first that the space does not hold."""
    for text in config.enqueue:
        if not _in_space(Point.from_label(text), space):
            raise ValueError(f"the design {text!r} to evaluate first is outside the space")


def _in_space(point: Point, space: SweepSpace) -> bool:
    return (
        len(point.hidden) in space.layers
        and all(h in space.sizes for h in point.hidden)
        and all(b in space.weight_bits for b in point.weight_bits)
        and point.sparsity in space.sparsity
        and point.penalty in space.penalty
        and point.peak_input in space.peak_input
        and point.input_bits in space.input_bits
    )


def sweep_context(data: str, model: ModelConfig, train: TrainConfig, config: SweepConfig) -> dict:
    """What every point's results depend on besides the point (``point_key``): the data set's
    identity and the settings. Each point sets its own sparsity and penalty, so the training
    defaults' do not enter."""
    return {
        "data": data,
        "model": model.to_dict(),
        "train": replace(train, sparsity=0.0, resource_penalty=0.0).to_dict(),
        "folds": config.folds,
        "test_negatives": config.test_negatives,
    }


def run_sweep(
    windows: Path,
    out: Path,
    cache: Path,
    space: SweepSpace,
    config: SweepConfig,
    model: ModelConfig,
    train: TrainConfig,
    workers: int = DEFAULT_WORKERS,
    scheduler: str | None = None,
    progress: ProgressFactory | None = None,
) -> dict:
    """Sweep into ``out`` (replaced): points.csv and points.json (one row per trial),
    pareto.png, sweep.json and the cluster's logs; points cached in ``cache``."""
    space.validate()
    config.validate()
    check_output(out, [windows, cache])
    store = PointCache(cache)
    data = dataset_identity(windows)
    seed_trains = [replace(train, seed=config.seed + i) for i in range(config.seeds)]
    contexts = [sweep_context(data, model, t, config) for t in seed_trains]
    progress = progress or no_progress
    movies = (
        {i: str(path) for i, path in labelled_movies(windows).items()} if config.events else None
    )
    grid = space.grid() if config.sampler == "grid" else None
    trials = (len(grid) if not config.trials else min(config.trials, len(grid))) if grid else None
    trials = trials or config.trials
    study = None if grid else _study(space, config)
    rows: list[dict] = []
    evaluated, evaluating_seconds = 0, 0.0  # evaluations: one per point and seed
    with atomic_dir(out) as tmp, dask_client(workers, scheduler) as client:
        cluster = describe(client)
        with progress(trials, "sweep", "point") as bar:
            while len(rows) < trials:
                size = min(config.batch, trials - len(rows))
                if grid is not None:
                    asked = [(None, p) for p in grid[len(rows) : len(rows) + size]]
                else:
                    asked = [(t, space.suggest(t)) for t in (study.ask() for _ in range(size))]
                keys = [[point_key(p, seed_context) for seed_context in contexts] for _, p in asked]
                todo = {}
                for (_, p), seed_keys in zip(asked, keys, strict=True):
                    for seed_train, key in zip(seed_trains, seed_keys, strict=True):
                        known = store.get(key)  # a failed point is tried again, and one
                        # without the event level when the sweep wants it
                        again = known is None or known["status"] == "failed"
                        rate = config.false_events_per_hour
                        again = again or (movies is not None and known.get("event_rate") != rate)
                        if again and key not in todo:
                            todo[key] = PointTask(
                                p,
                                key,
                                str(Path(windows).resolve()),
                                str(store.path(key).resolve()),
                                model,
                                seed_train,
                                config.folds,
                                config.test_negatives,
                                movies,
                                config.false_events_per_hour,
                            )
                bar.update(len(asked) - len(todo) / config.seeds)
                began = time.perf_counter()
                outcomes = run_tasks(
                    client,
                    evaluate_point,
                    list(todo.values()),
                    desc="point",
                    keep_going=True,
                    advance=lambda done: bar.update(done / config.seeds),
                )
                if todo:
                    evaluating_seconds += time.perf_counter() - began
                    evaluated += len(todo)
                for key, outcome in zip(todo, outcomes, strict=True):
                    result = (
                        {"status": "ok", **outcome.result}
                        if outcome.error is None
                        else {"status": "failed", "error": outcome.error}
                    )
                    store.put(key, result)
                for (trial, point), seed_keys in zip(asked, keys, strict=True):
                    results = [store.get(key) for key in seed_keys]
                    result = combine_seeds(results, [t.seed for t in seed_trains])
                    cached = not any(key in todo for key in seed_keys)
                    rows.append(_row(len(rows), point, seed_keys[0], result, cached))
                    if trial is not None:
                        _tell(study, trial, result)
        synthesized = _synthesize(client, rows, store, config, model, progress)
        cluster["logs"] = save_logs(client, tmp / "logs")
        summary = _summary(rows, config, space, cluster, evaluated, evaluating_seconds, synthesized)
        _write_rows(tmp, rows)
        plot_front(rows, tmp / "pareto.png", _references(rows))
        write_json(tmp / "sweep.json", summary)
    return {"out": str(out), **summary}


SEED_MEANS = ("qat_auc", "float_auc", "event_false_per_hour", "event_efficiency")
"""Figures a point's seeds average (``event_efficiency`` stands for its magnitude classes
too): the same sessions, folds and hours at each seed, so the means are the pooled figures."""


def combine_seeds(results: list[dict], seeds: list[int]) -> dict:
    """One point's figures from its results at each training seed (``PointTask.train.seed``):
    the first seed's (its final model, chain check and costs), with the AUCs, the quantization
    loss and the event figures averaged, the lowest QAT AUC and the seeds' spread beside them.
    Failed if any seed failed."""
    failed = [(s, r) for s, r in zip(seeds, results, strict=True) if r["status"] != "ok"]
    if failed:
        said = "; ".join(f"seed {s}: {r['error']}" for s, r in failed)
        return {"status": "failed", "error": said if len(results) > 1 else failed[0][1]["error"]}
    if len(results) == 1:
        return results[0]
    combined = dict(results[0])
    for name, value in results[0].items():
        if name.startswith(SEED_MEANS) and isinstance(value, float):
            values = [r[name] for r in results]
            combined[name] = None if None in values else float(sum(values) / len(values))
    combined["quantization_loss"] = combined["float_auc"] - combined["qat_auc"]
    qat = [r["qat_auc"] for r in results]
    combined.update(
        {
            "seeds": len(results),
            "qat_auc_lowest": min(qat),
            "qat_auc_spread": max(qat) - min(qat),
            "qat_auc_per_seed": qat,
            "float_auc_per_seed": [r["float_auc"] for r in results],
            "seconds": round(sum(r["seconds"] for r in results), 1),
        }
    )
    return combined


def _tell(study, trial, result: dict) -> None:
    from optuna.trial import TrialState

    if result["status"] == "ok":
        study.tell(trial, [result["qat_auc"], result["da4ml_luts"]])
    else:
        study.tell(trial, state=TrialState.FAIL)


def _row(index: int, point: Point, key: str, result: dict, cached: bool) -> dict:
    return {
        "trial": index,
        "key": key,
        "design": point.label(),
        "hidden": "-".join(map(str, point.hidden)),
        "weight_bits": ".".join(map(str, point.weight_bits)),
        "sparsity": point.sparsity,
        "penalty": point.penalty,
        "peak_input": point.peak_input,
        "input_bits": point.input_bits,
        "cached": cached,
        **{k: v for k, v in result.items() if not isinstance(v, list)},
    }


def _synthesize(client, rows, store, config, model, progress) -> int:
    """Yosys for the points on or near the front (or all, or none); results cached."""
    ok = _unique_ok(rows)
    if config.synthesize == "none" or not ok:
        chosen = []
    elif config.synthesize == "all":
        chosen = list(range(len(ok)))
    else:
        chosen = near_front(
            [r["da4ml_luts"] for r in ok], [r["qat_auc"] for r in ok], config.near_margin
        )
    if config.synthesize != "none":  # the references too: the goals compare with them
        references = {p.label() for p in REFERENCES.values()}
        chosen = sorted({*chosen, *(i for i, r in enumerate(ok) if r["design"] in references)})
    tasks = [
        task
        for task in (
            SynthesisTask(
                ok[i]["key"],
                str(store.path(ok[i]["key"]).resolve()),
                Point.from_label(ok[i]["design"]).preprocessing(model.preprocessing),
                config.core,
            )
            for i in chosen
        )
        if _needs_synthesis(store.get(task.key, "synthesis.json"), task)
    ]
    outcomes = run_tasks(
        client, synthesize_point, tasks, progress, "synthesis", "point", keep_going=True
    )
    for task, outcome in zip(tasks, outcomes, strict=True):
        data = outcome.result if outcome.error is None else {"synthesis_error": outcome.error}
        store.put(task.key, data, "synthesis.json")
    for row in rows:
        row.update(store.get(row["key"], "synthesis.json") or {})
    return len(chosen)


def _needs_synthesis(done: dict | None, task: SynthesisTask) -> bool:
    """Not yet synthesized, or failed before (tried again), or the core is wanted now and was
    not tried, or said it could not map a model that it maps now (the core has grown; a model
    it still cannot map is not synthesized again on every run)."""
    if done is None or "unrolled_luts" not in done:
        return True
    if not task.core or "core_luts" in done:
        return False
    return "core_error" not in done or core_maps(task)


def _unique_ok(rows: list[dict]) -> list[dict]:
    seen, out = set(), []
    for r in rows:
        if r.get("status") == "ok" and r["key"] not in seen:
            seen.add(r["key"])
            out.append(r)
    return out


def _references(rows: list[dict]) -> dict[str, dict]:
    labels = {p.label(): name for name, p in REFERENCES.items()}
    return {labels[r["design"]]: r for r in _unique_ok(rows) if r["design"] in labels}


def _summary(rows, config, space, cluster, evaluated, seconds, synthesized) -> dict:
    ok = _unique_ok(rows)
    refs = _references(rows)
    fronts = {}
    for column in ("da4ml_luts", "unrolled_luts", "core_luts"):
        have = [r for r in ok if r.get(column) is not None]
        front = pareto_front([float(r[column]) for r in have], [r["qat_auc"] for r in have])
        fronts[column] = [
            {k: have[i].get(k) for k in ("design", "key", column, *FRONT_FIGURES)} for i in front
        ]
    return {
        "config": config.to_dict(),
        "space": space.to_dict(),
        "cluster": cluster,
        "trials": len(rows),
        "points": len({r["key"] for r in rows}),
        "ok": len(ok),
        "failed": [
            {"design": r["design"], "key": r["key"], "error": r["error"]}
            for r in rows
            if r.get("status") == "failed"
        ],
        "evaluated": evaluated,
        "cached": len(rows) * config.seeds - evaluated,
        "evaluation_seconds": round(seconds, 1),
        "points_per_hour": evaluated / config.seeds / seconds * 3600 if seconds > 0 else None,
        "synthesized": synthesized,
        "references": {name: _brief(r) for name, r in refs.items()},
        "fronts": fronts,
        "goals": _goals(ok, refs),
    }


def _brief(row: dict) -> dict:
    keys = (
        "design",
        "key",
        "qat_auc",
        "float_auc",
        "quantization_loss",
        "da4ml_luts",
        "unrolled_luts",
        "core_luts",
    )
    brief = {k: row.get(k) for k in keys}
    if row.get("seeds"):
        brief.update({k: row[k] for k in ("seeds", "qat_auc_lowest", "qat_auc_spread")})
    return brief


def _goals(ok: list[dict], refs: dict) -> dict:
    """The issue's two measures, from the synthesized points: the best design within the
    LUT budget against the default's AUC, and the front at the uniform (16, 8) design's LUTs
    against that design."""
    default, uniform = refs.get("default 64-32 w5"), refs.get("uniform 16-8 w4")
    synthesized = [r for r in ok if r.get("unrolled_luts") is not None]
    within = [
        r
        for r in synthesized
        if r["unrolled_luts"] <= LUT_BUDGET and r["quantization_loss"] <= 0.005
    ]
    best = max(within, key=lambda r: (r["qat_auc"], -r["unrolled_luts"]), default=None)
    out = {
        "lut_budget": LUT_BUDGET,
        "best_within_budget": _brief(best) if best else None,
        "default_qat_auc": default["qat_auc"] if default else None,
    }
    if best and default:
        out["best_minus_default"] = best["qat_auc"] - default["qat_auc"]
    if uniform and uniform.get("unrolled_luts") is not None:
        budget = uniform["unrolled_luts"]
        rivals = [r for r in synthesized if r["unrolled_luts"] <= budget]
        top = max(rivals, key=lambda r: r["qat_auc"])
        out["at_uniform_luts"] = {
            "luts": budget,
            "uniform_qat_auc": uniform["qat_auc"],
            "best": _brief(top),
            "gain": top["qat_auc"] - uniform["qat_auc"],
        }
    return out


def _write_rows(folder: Path, rows: list[dict]) -> None:
    (folder / "points.json").write_text(json.dumps(rows, indent=1, default=_json_number))
    fields: list[str] = []
    for r in rows:
        fields += [k for k in r if k not in fields]
    with open(folder / "points.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def _json_number(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)
