"""Leave-one-session-out evaluation of the MLPs and the baselines (the ``evaluate`` stage)."""

import json
import time
from collections.abc import Callable
from pathlib import Path

from quant.checkpoint import load_models
from quant.evaluation import FoldResult, evaluate
from quant.report import write_report
from uvhunt.atomic import atomic_dir, check_output, write_json
from uvhunt.errors import UvhuntError

MIN_TEST_NEGATIVES = 1000
"""Not-meteor windows per held-out session, at least: at 1e-4 false positives per window,
fewer cannot give a threshold."""


def check_test_negatives(test_negatives: int) -> None:
    if test_negatives < MIN_TEST_NEGATIVES:
        raise UvhuntError(
            f"--test-negatives must be >= {MIN_TEST_NEGATIVES}",
            fix="at 1e-4 false positives per window, 1,000 negatives is the least",
        )


def evaluate_stage(
    model_folder: Path,
    windows: Path,
    out: Path,
    test_negatives: int,
    workers: int,
    progress: Callable[[FoldResult], None] | None = None,
) -> dict:
    """Evaluate with the configs of a trained model folder; write the report folder."""
    check_output(out, [windows, model_folder])
    model_config, train_config, *_ = load_models(model_folder)
    start = time.perf_counter()
    folds = evaluate(windows, model_config, train_config, test_negatives, workers, progress)
    with atomic_dir(out) as tmp:
        summary = write_report(folds, tmp)
        summary.update(
            {
                "windows": str(windows),
                "model": str(model_folder),
                "test_negatives": test_negatives,
                "seconds": round(time.perf_counter() - start, 1),
                "config": json.loads((Path(model_folder) / "config.json").read_text()),
            }
        )
        write_json(tmp / "summary.json", summary)
    return {"out": str(out), **summary}
