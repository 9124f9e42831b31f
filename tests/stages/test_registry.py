"""The stage registry is the one list of stages: the command line, `uvhunt run`, the cache
and the report read it; stage folders never hold one another."""

import importlib
import pkgutil
from pathlib import Path

import pytest

import uvhunt.stages as stages
from uvhunt._core.errors import UvhuntError
from uvhunt.cli import build_parser, main
from uvhunt.pipeline import stage_args
from uvhunt.stages import BY_NAME, STAGES, flag_of, stage_arguments
from uvhunt.stages.stage import Stage


def test_every_stage_module_is_registered_once():
    declared = []
    for info in pkgutil.iter_modules(stages.__path__):
        module = importlib.import_module(f"uvhunt.stages.{info.name}")
        if isinstance(getattr(module, "STAGE", None), Stage):
            declared.append(module.STAGE)
    assert sorted(s.name for s in declared) == sorted(s.name for s in STAGES)
    assert len({s.name for s in STAGES}) == len(STAGES)


def test_no_stage_folder_holds_another():
    """Each stage replaces its folder whole: the RTL must not live inside the HLS project's
    folder (`uvhunt firmware` once deleted it)."""
    folders = [Path(s.folder) for s in STAGES]
    for a in folders:
        for b in folders:
            assert a == b or not b.is_relative_to(a), (a, b)
    assert BY_NAME["firmware"].folder == "firmware/hls"
    assert BY_NAME["rtl"].folder == "firmware/rtl"


def test_inputs_come_from_earlier_stages():
    names = [s.name for s in STAGES]
    for stage in STAGES:
        for source in stage.inputs:
            assert names.index(source.stage) < names.index(stage.name), (stage.name, source)


def test_the_command_line_has_one_subcommand_per_stage_and_run(capsys):
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # argparse: no public accessor
    assert list(commands) == ["run", *(s.name for s in STAGES)]
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = capsys.readouterr().out
    for stage in STAGES:
        assert stage.name in text  # --from/--only list every stage; the docstring names them


def test_input_defaults_are_the_default_run_folders():
    args = stage_arguments(BY_NAME["cosim"])
    assert args.rtl == Path("runs/default/firmware/rtl")
    assert args.model == Path("runs/default/model")
    assert args.out == Path("runs/default/cosim")


def test_run_gives_each_stage_its_run_folders_and_shared_options(tmp_path):
    run = build_parser().parse_args(["run", "--out", str(tmp_path), "--seed", "3"])
    folders = {s.name: tmp_path / s.folder for s in STAGES}
    windows = stage_args(BY_NAME["windows"], run, folders)
    assert windows.sources == [tmp_path / "sessions"] and windows.stride == 16
    assert windows.seed == 3 and windows.out == tmp_path / "windows"
    detect = stage_args(BY_NAME["detect"], run, folders)
    assert detect.movie == tmp_path / "sessions" / "session_00"
    report = stage_args(BY_NAME["report"], run, folders)
    assert report.run == tmp_path and report.folders == folders


def test_library_errors_get_their_command_line_fix(tmp_path, capsys):
    """The library names a setting and a path; the command line adds the flag and the
    command that writes the missing input."""
    assert flag_of("rate_per_hour") == "`uvhunt simulate --meteor-rate`"
    assert flag_of("label_snr") == "`uvhunt windows --label-snr`"
    code = main(["train", "--windows", str(tmp_path / "nowhere"), "--out", str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert code == 2 and "written by `uvhunt windows`" in err
    assert not (tmp_path / "m").exists()


def test_an_error_without_a_fix_is_left_as_it_is():
    stage = BY_NAME["resources"]
    error = UvhuntError("broken")

    def fail(args, progress):
        raise error

    broken = Stage(**{**stage.__dict__, "run": fail})
    with pytest.raises(UvhuntError) as caught:
        stages.run_stage(broken, stage_arguments(stage), None)
    assert caught.value is error


def test_run_options_reach_only_the_stages_they_mean(tmp_path):
    """`uvhunt run --frames` is the sessions' length, not the core's stream."""
    run = build_parser().parse_args(["run", "--out", str(tmp_path), "--frames", "4096"])
    folders = {s.name: tmp_path / s.folder for s in STAGES}
    core = stage_args(BY_NAME["core"], run, folders)
    assert core.stream_frames == 56 and core.pixels == 2304
    assert core.movie == tmp_path / "sessions" / "session_00"


def test_the_evaluation_starts_beside_the_training_from_the_run_options(tmp_path):
    """The evaluation reads the window data set and the run's model and training options,
    not the trained model: the run starts it before training (one core would idle)."""
    from uvhunt.pipeline import _depends, _ready_in_background
    from uvhunt.stages.evaluate import configs
    from uvhunt.stages.model_options import model_config, train_config

    inputs = {s.name: _depends(s) for s in STAGES}
    assert inputs["evaluate"] == ["windows"]
    begun = {"simulate": "ran", "windows": "cached"}
    assert _ready_in_background(BY_NAME["train"], begun, inputs) == [BY_NAME["evaluate"]]
    assert _ready_in_background(BY_NAME["windows"], {"simulate": "ran"}, inputs) == []
    assert _ready_in_background(BY_NAME["train"], {**begun, "evaluate": "running"}, inputs) == []
    run = build_parser().parse_args(["run", "--out", str(tmp_path), "--hidden", "16,8"])
    evaluate = stage_args(BY_NAME["evaluate"], run, {s.name: tmp_path / s.folder for s in STAGES})
    model, training = configs(evaluate)
    assert evaluate.model is None and model == model_config(run) and training == train_config(run)
    assert model.hidden == (16, 8)


def test_only_reads_the_stages_the_chosen_one_reads_and_a_failure_keeps_the_background(
    tmp_path,
):
    from uvhunt.pipeline import NAMES, _depends, _failed
    from uvhunt.stages.cache import StagePlan

    inputs = {s.name: _depends(s) for s in STAGES}
    only_evaluate = StagePlan(NAMES, inputs, tmp_path, "0", only="evaluate")
    assert only_evaluate.read_by("evaluate") == {"simulate", "windows"}
    assert only_evaluate.skipped("train") and not only_evaluate.skipped("windows")
    only_export = StagePlan(NAMES, inputs, tmp_path, "0", only="export")
    assert not only_export.skipped("train") and only_export.skipped("evaluate")
    assert only_export.skipped("cosim") and not only_export.skipped("export")
    error = UvhuntError("out of memory", fix="free some")
    plain = _failed("train", error, Path("run"), ["evaluate"]).fix
    assert "resume with `uvhunt run --out run` (" in plain and "--from" not in plain
    assert "evaluate finished in the background" in plain
    assert "`uvhunt run --out run --from cosim`" in _failed("cosim", error, Path("run")).fix
