"""`uvhunt sweep`: points sampled, trained, scored, checked bit for bit and priced on Dask; the
front synthesized; the same results on a real external cluster as on the local default; a
stopped sweep resumed from its cache; a failing point recorded while the sweep goes on."""

import csv
import hashlib
import json
import shutil

import numpy as np
import optuna
import pytest

from tests.fast_training import TRAIN_FLAGS
from tests.golden_models import random_golden
from uvhunt.cli import main
from uvhunt.quant.config import ModelConfig, TrainConfig, replace
from uvhunt.quant.preprocess import Preprocessing
from uvhunt.stages.report import _sweep_section
from uvhunt.sweep.pareto import near_front, pareto_front
from uvhunt.sweep.runner import SweepConfig, _needs_synthesis, combine_seeds, sweep_context
from uvhunt.sweep.space import Point, SweepSpace, point_key
from uvhunt.sweep.synthesis import SynthesisTask, core_maps

SMALL = [
    "--trials", "5", "--batch", "3", "--fold-negatives", "1000", "--space-sizes", "4,8,16",
    "--space-bits", "2,4,6", "--space-sparsity", "0,0.5", "--space-penalty", "0,0.2",
    *TRAIN_FLAGS,
]  # fmt: skip
VARYING = {"cached", "seconds", "synthesis_seconds"}
"""Columns that say how a point was obtained, not what it is."""


def test_the_front_keeps_the_points_nothing_beats():
    cost = [10, 5, 20, 5, 30, 40]
    accuracy = [0.8, 0.7, 0.9, 0.75, 0.85, 0.95]
    assert pareto_front(cost, accuracy) == [3, 0, 2, 5]
    assert near_front(cost, accuracy, 0.04) == [0, 2, 3, 5]
    assert near_front(cost, accuracy, 0.06) == [0, 1, 2, 3, 4, 5]
    assert pareto_front([1, 1], [0.5, 0.5]) == [0]


def test_a_points_parameters_give_the_point_back():
    space = SweepSpace(sizes=(8, 16, 64), weight_bits=(3, 5))
    grid = space.grid()
    assert len(grid) == len(set(grid)) and all(p.hidden[-1] <= p.hidden[0] for p in grid)
    assert len(grid) == (3 * 2**2 + 6 * 2**3) * 4 * 3 * 2  # widths never grow
    study = optuna.create_study(directions=["maximize", "minimize"])
    for point in (Point((16, 8), (3, 5, 3), 0.5, 0.05), Point((8,), (5, 3), 0.25, 0, True)):
        study.enqueue_trial(space.params(point))
        assert space.suggest(study.ask()) == point
    assert Point((8,), (4, 4), 0.25, 0, True).label() == "8 w4.4 s0.25 peak"
    assert Point((8,), (4, 4), 0.25, 0, True, 6).label() == "8 w4.4 s0.25 i6 peak"
    several = SweepSpace(sizes=(8,), weight_bits=(4,), input_bits=(8, 6))
    assert len(several.grid()) == 2 * 4 * 3 * 2 * 2  # (8,) and (8, 8)
    point = Point((8,), (4, 4), 0.5, 0.05, True, 6)
    study = optuna.create_study(directions=["maximize", "minimize"])
    study.enqueue_trial(several.params(point))
    assert several.suggest(study.ask()) == point
    with pytest.raises(ValueError, match="input_bits"):
        SweepSpace(input_bits=(1,)).validate()
    with pytest.raises(ValueError, match="weight_bits"):
        SweepSpace(weight_bits=(1, 4)).validate()
    with pytest.raises(ValueError, match="peak_input"):
        SweepSpace(peak_input=(0, 1)).validate()


def test_a_points_key_names_what_its_results_depend_on():
    point, model, train, config = (
        Point((16, 8), (3, 5, 3), 0.5),
        ModelConfig(),
        TrainConfig(),
        SweepConfig(),
    )
    key = point_key(point, sweep_context("data", model, train, config))
    # the point sets its own sparsity and penalty: the training defaults' change nothing
    same = replace(train, sparsity=0.25, resource_penalty=0.1)
    assert point_key(point, sweep_context("data", model, same, config)) == key
    for other in (
        sweep_context("other data", model, train, config),
        sweep_context("data", model, replace(train, qat_epochs=3), config),
        sweep_context("data", model, train, replace(config, folds=2)),
    ):
        assert point_key(point, other) != key
    assert (
        point_key(replace(point, sparsity=0.25), sweep_context("data", model, same, config)) != key
    )
    assert (
        point_key(replace(point, peak_input=True), sweep_context("data", model, train, config))
        != key
    )
    six = point_key(replace(point, input_bits=6), sweep_context("data", model, train, config))
    assert six != key
    # the peak and the input bits became dimensions later: the points without the peak, at
    # the default's input bits, keep their cached results
    before = {
        "point": {"hidden": (16, 8), "weight_bits": (3, 5, 3), "sparsity": 0.5, "penalty": 0.0}
    }
    payload = json.dumps(
        {**before, **sweep_context("data", model, train, config)}, sort_keys=True, default=str
    )
    assert key == hashlib.sha256(payload.encode()).hexdigest()[:16]


def _sweep(windows, out, *extra) -> int:
    return main(["sweep", "--windows", str(windows), "--out", str(out), *SMALL, *extra])


def _rows(folder):
    with open(folder / "points.csv", newline="") as f:
        return [{k: v for k, v in r.items() if k not in VARYING} for r in csv.DictReader(f)]


def test_a_sweep_evaluates_checks_prices_and_resumes(window_folder, tmp_path, capsys):
    out = tmp_path / "sweep"
    assert _sweep(window_folder, out, "--synthesize", "front", "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    rows = json.loads((out / "points.json").read_text())
    assert len(rows) == summary["trials"] == 5 and summary["evaluated"] == summary["points"]
    assert (out / "pareto.png").stat().st_size > 0 and (out / "logs" / "worker-0.log").exists()
    for r in rows:
        assert r["status"] == "ok", r
        assert r["chain_mismatches"] == 0 and r["chain_vectors"] > 4096  # bit-exact, checked
        assert 0.0 <= r["qat_auc"] <= 1.0 and r["da4ml_luts"] >= 0
        layers = len(r["hidden"].split("-")) + 1
        assert r["zero_weights"] >= np.floor(r["sparsity"] * r["weights"]) - layers
        # the event level: each fold's model scanned its sessions whole
        assert r["event_rate"] == 10.0 and r["event_hours"] > 0 and r["event_meteors"] > 0
        assert r["event_false_per_hour"] >= 0 and 0 <= r["event_efficiency"] <= 1
    synthesized = [r for r in rows if r.get("unrolled_luts") is not None]
    assert synthesized and all(r.get("core_luts") for r in synthesized), [
        r.get("core_error") for r in synthesized
    ]
    front = summary["fronts"]["unrolled_luts"]
    assert front and all(f["key"] in {r["key"] for r in synthesized} for f in front)
    assert "uniform 16-8 w4" in summary["references"]  # evaluated first, in the space
    assert {r["peak_input"] for r in rows} == {False, True}  # the peak's circuit is checked too
    # the run's report shows the front when the run has a sweep
    (section,) = _sweep_section(
        {"sweep": json.loads((out / "sweep.json").read_text()), "sweep_plot": out / "pareto.png"}
    )
    assert [row[0] for row in section["table"]["rows"]] == [f["design"] for f in front]
    assert _sweep_section({}) == []
    # stopped and started again: nothing is evaluated twice, the same rows come out
    before = _rows(out)
    assert _sweep(window_folder, out, "--synthesize", "front", "--json") == 0
    again = json.loads(capsys.readouterr().out)
    assert again["evaluated"] == 0 and again["cached"] == 5 and _rows(out) == before


def test_an_external_cluster_gives_what_the_local_one_gives(
    window_folder, tmp_path, dask_scheduler, capsys
):
    local, remote = tmp_path / "local", tmp_path / "remote"
    assert _sweep(window_folder, local, "--synthesize", "none", "--workers", "1") == 0
    assert _sweep(window_folder, remote, "--synthesize", "none", "--scheduler", dask_scheduler) == 0
    assert _rows(local) == _rows(remote) and len(_rows(local)) == 5
    a, b = (json.loads((f / "sweep.json").read_text()) for f in (local, remote))
    assert b["cluster"]["scheduler"] == dask_scheduler and b["cluster"]["workers"] == 2
    assert a["evaluated"] == b["evaluated"] == a["points"]  # separate caches: both computed


def test_a_failing_point_is_recorded_and_the_sweep_goes_on(window_folder, tmp_path, capsys):
    out, cache = tmp_path / "sweep", tmp_path / "cache"
    assert (
        _sweep(window_folder, out, "--synthesize", "none", "--cache", str(cache), "--no-events")
        == 0
    )
    assert "event_false_per_hour" not in _rows(out)[0]
    broken = _rows(out)[1]["key"]
    shutil.rmtree(cache / broken)
    (cache / broken / "model.onnx").mkdir(parents=True)  # the export cannot write its file
    capsys.readouterr()
    assert _sweep(window_folder, out, "--synthesize", "none", "--cache", str(cache), "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert [f["key"] for f in summary["failed"]] == [broken]
    assert summary["ok"] == summary["points"] - 1
    # the cached points had no event level, which this sweep wants: evaluated again
    assert summary["evaluated"] == summary["points"]
    rows = {r["key"]: r for r in _rows(out)}
    assert rows[broken]["status"] == "failed" and rows[broken]["error"]


def test_designs_to_evaluate_first_are_read_and_checked(tmp_path, capsys):
    """``--enqueue`` takes designs as the table names them; one outside the space, one that
    names no design, or a grid with them is refused before anything runs or is written."""
    text = "16-8 w4.4.4 s0.25 p0.05 peak"
    assert Point.from_label(text).label() == text
    assert Point.from_label("16-8 w4.4.4 i6 peak") == Point((16, 8), (4, 4, 4), 0, 0, True, 6)
    assert Point.from_label("16-8 w4.4.4 i8") == Point((16, 8), (4, 4, 4))
    assert Point.from_label("64-32 w5.5.5") == Point((64, 32), (5, 5, 5))
    for bad, message in (
        ("16-8 w4.4 peak", "one weight width per layer"),
        ("16-8 x4", "not a design"),
        ("16-8 w4.4.4 q3", "not a design"),
    ):
        with pytest.raises(ValueError, match=message):
            Point.from_label(bad)
    with pytest.raises(ValueError, match="grid"):
        SweepConfig(sampler="grid", enqueue=("8 w4.4",)).validate()
    out = tmp_path / "sweep"
    for extra, message in (
        (["--enqueue", "128-8 w4.4.4"], "outside the space"),
        (["--enqueue", "16-8"], "not a design"),
        (["--space-peak", "0,2"], "--space-peak"),
    ):
        assert _sweep(tmp_path / "no windows", out, *extra) != 0
        assert message in capsys.readouterr().err
        assert not out.exists()


def test_a_points_seeds_are_averaged_and_each_is_a_sweep_at_that_seed(
    window_folder, tmp_path, capsys
):
    """``--seeds 2`` trains each point at ``--seed`` and the next: its AUCs and loss are the
    two sweeps' means, its design (key, model, costs) the first seed's, and each seed's
    results are the cached ones of a sweep at that seed alone."""
    cache = tmp_path / "cache"
    grid = ["--sampler", "grid", "--trials", "1", "--folds", "2", "--synthesize", "none",
            "--no-events", "--space-peak", "1", "--space-input-bits", "6"]  # fmt: skip
    single = {}
    for seed in (3, 4):
        out = tmp_path / f"seed{seed}"
        assert _sweep(window_folder, out, *grid, "--cache", str(cache), "--seed", str(seed)) == 0
        single[seed] = _rows(out)
    capsys.readouterr()
    both = tmp_path / "both"
    assert (
        _sweep(window_folder, both, *grid, "--cache", str(cache), "--seed", "3", "--seeds", "2",
               "--json") == 0
    )  # fmt: skip
    summary = json.loads(capsys.readouterr().out)
    assert summary["evaluated"] == 0 and summary["cached"] == 2  # each seed cached: none again
    for row, a, b in zip(_rows(both), single[3], single[4], strict=True):
        assert row["key"] == a["key"] != b["key"] and row["design"] == a["design"] == b["design"]
        qat = (float(a["qat_auc"]), float(b["qat_auc"]))
        flt = (float(a["float_auc"]), float(b["float_auc"]))
        assert float(row["qat_auc"]) == pytest.approx(sum(qat) / 2, abs=1e-12)
        assert float(row["float_auc"]) == pytest.approx(sum(flt) / 2, abs=1e-12)
        assert float(row["quantization_loss"]) == pytest.approx(
            sum(flt) / 2 - sum(qat) / 2, abs=1e-12
        )
        assert float(row["qat_auc_lowest"]) == min(qat) and row["seeds"] == "2"
        assert row["da4ml_luts"] == a["da4ml_luts"]  # the first seed's design
        # 6-bit inputs with the peak's circuit: brevitas = QONNX = golden = da4ml's graph
        assert row["design"].endswith(" i6 peak") and row["input_bits"] == "6"
        assert row["chain_mismatches"] == "0" and int(row["chain_vectors"]) > 4096


def test_a_point_failed_at_any_seed_is_failed():
    ok = {"status": "ok", "qat_auc": 0.9, "float_auc": 0.91, "seconds": 1.0}
    assert combine_seeds([ok], [0]) == ok
    failed = {"status": "failed", "error": "OSError: disk full"}
    said = combine_seeds([ok, failed], [0, 1])
    assert said == {"status": "failed", "error": "seed 1: OSError: disk full"}
    assert combine_seeds([failed], [0]) == failed
    with pytest.raises(ValueError, match="seeds"):
        SweepConfig(seeds=0).validate()


def test_a_core_error_is_tried_again_once_the_core_maps_the_model(tmp_path):
    """A cached ``core_error`` from a core that could not map the model (6-bit inputs, before
    the core took them) is synthesized again now that it maps; one that still cannot map is
    not, nor is a point with core figures or a sweep without the core."""
    random_golden((49, 8, 4, 1), 4, 8, (6, 3), seed=3, input_bits=6).write(tmp_path / "golden.npz")
    six = Preprocessing(bits=6, peak_input=True)
    task = SynthesisTask("key", str(tmp_path), six)
    stale = {"unrolled_luts": 900, "core_error": "the trigger core cannot map this model: …"}
    assert core_maps(task) and _needs_synthesis(stale, task)
    assert not _needs_synthesis({**stale, "core_luts": 1_300}, task)
    assert not _needs_synthesis(stale, replace(task, core=False))
    unmappable = replace(task, preprocessing=replace(six, history_bits=10))
    assert not core_maps(unmappable) and not _needs_synthesis(stale, unmappable)
    assert _needs_synthesis(None, task) and _needs_synthesis({"synthesis_error": "x"}, task)
