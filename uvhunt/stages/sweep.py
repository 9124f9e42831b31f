"""Sweep the design space on Dask: hidden sizes, each layer's weight bits, pruning and the
resource penalty of resource-aware QAT. Each point is trained and scored leave-k-sessions-out
(QAT and float AUC, the quantization loss), its final model exported and checked bit for bit
(brevitas = QONNX = golden = da4ml's adder graph) and priced by da4ml; the points on or near
the accuracy–LUT front are synthesized with Yosys, the unrolled design and the trigger core.
Points are cached by key: a stopped sweep resumes where it was. Runs on a local cluster
(``--workers``) or an existing one (``--scheduler``). Not part of the default ``uvhunt run``:
``uvhunt run --only sweep`` or ``uvhunt sweep``."""

from pathlib import Path

from uvhunt._core.cluster import DEFAULT_WORKERS, check_workers
from uvhunt._core.errors import UvhuntError
from uvhunt.console import table
from uvhunt.quant.config import ModelConfig
from uvhunt.stages.model_options import add_train_arguments, train_config
from uvhunt.stages.stage import Input, Stage
from uvhunt.sweep.runner import SAMPLERS, SweepConfig, check_enqueued, run_sweep
from uvhunt.sweep.space import SweepSpace

SPACE = SweepSpace()
CONFIG = SweepConfig()


def add_options(p) -> None:
    p.add_argument("--trials", type=int, default=CONFIG.trials, help="points to evaluate")
    p.add_argument(
        "--sampler",
        choices=SAMPLERS,
        default=CONFIG.sampler,
        help="Optuna's TPE (two objectives), random, or the whole grid in order",
    )
    p.add_argument(
        "--batch", type=int, default=CONFIG.batch, help="points asked of the sampler at once"
    )
    p.add_argument(
        "--enqueue",
        default="",
        help="designs the sampler evaluates first, after the reference designs, each as the "
        "table names it ('16-8 w4.4.4 s0.25 peak'), comma-separated; inside the space",
    )
    p.add_argument("--folds", type=int, default=CONFIG.folds, help="leave-k-sessions-out folds")
    p.add_argument(
        "--seeds",
        type=int,
        default=CONFIG.seeds,
        help="training seeds per point (--seed, --seed + 1, …): its AUCs are their means, its "
        "design the first seed's; each seed's results are cached as a sweep at that seed's",
    )
    p.add_argument(
        "--fold-negatives",
        type=int,
        default=CONFIG.test_negatives,
        help="not-meteor windows drawn from each fold's held-out sessions",
    )
    for name, values, what in (
        ("layers", SPACE.layers, "numbers of hidden layers"),
        ("sizes", SPACE.sizes, "hidden layer sizes"),
        ("bits", SPACE.weight_bits, "weight bits, chosen per layer"),
        ("sparsity", SPACE.sparsity, "pruned fractions"),
        ("penalty", SPACE.penalty, "resource-penalty strengths"),
    ):
        p.add_argument(
            f"--space-{name}",
            default=",".join(f"{v:g}" for v in values),
            help=f"the space: {what}, comma-separated",
        )
    p.add_argument(
        "--synthesize",
        choices=("front", "none", "all"),
        default=CONFIG.synthesize,
        help="Yosys for the points on or near the front, none or all",
    )
    p.add_argument(
        "--space-peak",
        default=",".join(str(int(v)) for v in SPACE.peak_input),
        help="the space: without (0) and with (1) the peak input, the window's ⌊S/5⌋ as one "
        "network input more (as `uvhunt train --peak-input`); the unrolled design computes "
        "the peak itself and its LUTs count that circuit; comma-separated",
    )
    p.add_argument(
        "--space-input-bits",
        default=",".join(str(v) for v in SPACE.input_bits),
        help="the space: bits of the network's inputs (the window's codes saturated to that "
        "signed range, at the default shift; the default's alone unless given), comma-separated",
    )
    p.add_argument(
        "--no-events",
        action="store_true",
        help="skip the event level (each fold's QAT MLP scanning its sessions' movies whole)",
    )
    p.add_argument(
        "--no-core",
        action="store_true",
        help="synthesize the unrolled design only, not the trigger core",
    )
    p.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS, help="worker processes of a local cluster"
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:PORT|FILE",
        help="run on this existing Dask cluster (scheduler address or file)",
    )
    p.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="folder of the points' results, kept between sweeps (default: OUT-cache)",
    )
    add_train_arguments(p)


def _choices(text: str, name: str, kind=int) -> tuple:
    try:
        values = tuple(kind(v) for v in str(text).split(",") if v.strip())
    except ValueError as exc:
        raise UvhuntError(
            f"--space-{name} {text!r} is not a comma-separated list of numbers",
            fix=f"for example --space-{name} " + ("0,0.5" if kind is float else "4,8"),
        ) from exc
    return values


def _peak_choices(text: str) -> tuple[bool, ...]:
    values = _choices(text, "peak")
    if not set(values) <= {0, 1}:
        raise UvhuntError(
            f"--space-peak {text!r}: each choice is 0 (without) or 1 (with the peak input)",
            fix="for example --space-peak 0,1",
        )
    return tuple(bool(v) for v in values)


def run(args, progress) -> dict:
    if args.scheduler is None:
        check_workers(args.workers)
    try:
        space = SweepSpace(
            _choices(args.space_layers, "layers"),
            _choices(args.space_sizes, "sizes"),
            _choices(args.space_bits, "bits"),
            _choices(args.space_sparsity, "sparsity", float),
            _choices(args.space_penalty, "penalty", float),
            _peak_choices(args.space_peak),
            _choices(args.space_input_bits, "input-bits"),
        ).validate()
        config = SweepConfig(
            trials=args.trials,
            batch=args.batch,
            sampler=args.sampler,
            folds=args.folds,
            test_negatives=args.fold_negatives,
            synthesize=args.synthesize,
            core=not args.no_core,
            seed=args.seed,
            seeds=args.seeds,
            enqueue=tuple(d.strip() for d in args.enqueue.split(",") if d.strip()),
            events=not args.no_events,
        ).validate()
        check_enqueued(space, config)
    except ValueError as exc:
        raise UvhuntError(f"invalid sweep setting: {exc}", fix="see `uvhunt sweep --help`") from exc
    out = Path(args.out)
    cache = args.cache or out.with_name(out.name + "-cache")
    return run_sweep(
        Path(args.windows),
        out,
        cache,
        space,
        config,
        ModelConfig(),
        train_config(args),
        args.workers,
        args.scheduler,
        progress,
    )


def render(summary: dict) -> str:
    def fmt(v, pattern):
        return "" if v is None else format(v, pattern)

    fronts = summary["fronts"]
    column = "unrolled_luts" if fronts["unrolled_luts"] else "da4ml_luts"
    rows = [
        [
            r["design"],
            fmt(r[column], ",.0f"),
            fmt(r["qat_auc"], ".4f"),
            fmt(r["quantization_loss"], "+.4f"),
            fmt(r.get("event_false_per_hour"), ".1f"),
            fmt(r.get("event_efficiency_brighter_5"), ".0%"),
            fmt(r.get("event_efficiency_5_6"), ".0%"),
        ]
        for r in fronts[column]
    ]
    lut_name = "LUTs (Yosys)" if column == "unrolled_luts" else "LUTs (da4ml estimate)"
    lines = [
        "front of the unrolled design:",
        table(
            rows,
            ["design", lut_name, "QAT AUC", "quant. loss", "false events/h", "> +5", "+5…+6"],
        ),
    ]
    for name, r in summary["references"].items():
        lines.append(
            f"reference {name}: QAT AUC {r['qat_auc']:.4f}{_seeds_said(r)}, "
            f"{fmt(r['unrolled_luts'] or r['da4ml_luts'], ',.0f')} LUTs"
        )
    goals = summary["goals"]
    best = goals.get("best_within_budget")
    if best:
        lines.append(
            f"best within {goals['lut_budget']:,} LUTs and quantization loss ≤ 0.005: "
            f"{best['design']} at {best['unrolled_luts']:,} LUTs, QAT AUC {best['qat_auc']:.4f}"
            + _seeds_said(best)
        )
    at = goals.get("at_uniform_luts")
    if at:
        lines.append(
            f"at the uniform 16-8 w4 design's {at['luts']:,} LUTs: {at['best']['design']}, "
            f"AUC {at['gain']:+.4f} against it"
        )
    c = summary["cluster"]
    rate = summary["points_per_hour"]
    seeds = summary["config"]["seeds"]
    each = f" × {seeds} seeds" if seeds > 1 else ""
    lines.append(
        f"{summary['trials']} trials, {summary['points']} points{each} ({summary['evaluated']} "
        f"evaluated, {summary['cached']} from the cache, {len(summary['failed'])} failed), "
        f"{summary['synthesized']} synthesized; {c['workers']} workers"
        + (f", {rate:.0f} points per hour" if rate else "")
    )
    for f in summary["failed"]:
        lines.append(f"failed {f['design']}: {f['error']}")
    lines.append(f"points.csv, pareto.png, sweep.json, logs/ in {summary['out']}")
    return "\n".join(lines)


def _seeds_said(point: dict) -> str:
    """`` (mean of 3 seeds, lowest 0.9089)`` for a point trained at several seeds."""
    if not point.get("seeds"):
        return ""
    return f" (mean of {point['seeds']} seeds, lowest {point['qat_auc_lowest']:.4f})"


STAGE = Stage(
    name="sweep",
    folder="sweep",
    help="design-space sweep on Dask: accuracy against LUTs, the Pareto front",
    description=__doc__,
    add_options=add_options,
    run=run,
    render=render,
    inputs=(Input("windows", "windows", "window data set written by `uvhunt windows`"),),
    optional=True,
)
