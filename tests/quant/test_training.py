import numpy as np
import pytest
import torch

from tests.fast_training import fast_train_config
from uvhunt._core.errors import UvhuntError
from uvhunt.euso.window_store import open_window_dataset
from uvhunt.quant.config import ModelConfig, TrainConfig
from uvhunt.quant.data import SessionSampler
from uvhunt.quant.evaluation import evaluate
from uvhunt.quant.evaluation_report import write_report
from uvhunt.quant.hard_negatives import hardest_negatives, train_mined
from uvhunt.quant.metrics import efficiency_at, efficiency_by_magnitude, threshold_at
from uvhunt.quant.models import FloatMLP, QuantMLP
from uvhunt.quant.preprocess import Preprocessing
from uvhunt.quant.training import prepare, scores, train

FAST = fast_train_config(negatives=3000, max_epochs=4, hard=500)


def test_training_is_deterministic_and_learns(window_folder):
    sampler = SessionSampler(open_window_dataset(window_folder))
    data = sampler.draw(sampler.sessions, FAST.negatives, np.random.default_rng(0))
    inputs = prepare(data, ModelConfig())
    a, b = train(inputs, ModelConfig(), FAST), train(inputs, ModelConfig(), FAST)
    for x, y in zip(
        a.quant_model.state_dict().values(), b.quant_model.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(x, y, rtol=0, atol=0)
    assert a.history["float"]["best_validation_auc"] > 0.7  # chance is 0.5; 4 epochs only


@pytest.mark.parametrize("bits", [8, 6])
def test_qat_steps_on_the_first_weights_shrink_as_the_weights_do(bits):
    """The QAT model's first weights are the float model's × input_scale; Adam's first step
    moves every weight by about the learning rate whatever its gradient, so the first layer's
    steps must shrink by input_scale too, or fine-tuning moves them 2**(bits-1) times too far."""
    config = ModelConfig(hidden=(8, 4), preprocessing=Preprocessing(bits=bits))
    torch.manual_seed(0)
    model = QuantMLP(config)
    model.load_float(FloatMLP(config))
    groups = model.parameter_groups(1e-3)
    grouped = [id(p) for g in groups for p in g["params"]]
    assert sorted(grouped) == sorted(id(p) for p in model.parameters())  # each once
    linear = [m for m in model.net if isinstance(m, torch.nn.Linear)]
    weights = [m.weight.detach().clone() for m in linear]
    optimizer = torch.optim.Adam(groups)
    x = torch.randint(-(2 ** (bits - 1)), 2 ** (bits - 1), (256, config.length)).float()
    model(x).square().mean().backward()
    optimizer.step()
    steps = [
        float((m.weight.detach() - w).abs().max()) for m, w in zip(linear, weights, strict=True)
    ]
    assert model.input_scale == 2.0 ** -(bits - 1)
    assert steps[0] == pytest.approx(1e-3 * model.input_scale, rel=0.01)
    assert steps[1] == pytest.approx(1e-3, rel=0.01)
    assert FloatMLP(config).parameter_groups(1e-3)[0]["lr"] == 1e-3


def test_test_sessions_are_never_trained_on(window_folder):
    sampler = SessionSampler(open_window_dataset(window_folder))
    rng = np.random.default_rng(0)
    training = sampler.draw([0, 2], 1000, rng)
    test = sampler.draw([1], 1000, rng, all_meteor_light=True)
    assert set(np.unique(training.session)) == {0, 2} and set(np.unique(test.session)) == {1}
    assert np.all(test.in_sample[test.label == 1])
    assert (~test.in_sample).sum() == np.sum(test.meteor_event[~test.in_sample] >= 0)


def test_leave_one_session_out_report(window_folder, tmp_path):
    folds = evaluate(window_folder, ModelConfig(hidden=(8,)), FAST, test_negatives=2000, workers=1)
    assert [f.session for f in folds] == ["session_00", "session_01", "session_02"]
    summary = write_report(folds, tmp_path)
    for name in (
        "auc.csv",
        "efficiency.csv",
        "magnitude.csv",
        "quantization_loss.csv",
        "report.md",
        "roc.png",
    ):
        assert (tmp_path / name).stat().st_size > 0
    lines = (tmp_path / "auc.csv").read_text().splitlines()
    assert lines[0] == "method,session_00,session_01,session_02,mean"
    assert len(lines) == 1 + 2 + 12  # float, QAT, 4 baselines × 3 feature sets
    assert set(summary["mean_auc"]) >= {"float_mlp", "qat_mlp", "knn/raw", "xgboost/both"}
    loss = summary["quantization_loss"]
    assert loss["mean"] == pytest.approx(np.mean(list(loss["per_session"].values())))


def test_drawn_negatives_are_the_ones_draw_uses(window_folder):
    sampler = SessionSampler(open_window_dataset(window_folder))
    drawn = sampler.draw([0, 1], 500, np.random.default_rng(7))
    again = sampler.drawn_negatives([0, 1], 500, np.random.default_rng(7))
    negatives = np.flatnonzero((sampler.label == 0) & np.isin(sampler.session, [0, 1]))
    assert len(again) == 500 and set(again) <= set(negatives)
    np.testing.assert_array_equal(
        np.sort(sampler.take(np.sort(again), np.ones(500, bool)).values, axis=0),
        np.sort(drawn.values[drawn.label == 0], axis=0),
    )


def test_hard_negatives_are_confuser_windows_drawn_on_top(window_folder):
    sampler = SessionSampler(open_window_dataset(window_folder))
    plain = sampler.drawn_negatives([0, 1], 300, np.random.default_rng(3))
    hard = sampler.drawn_negatives([0, 1], 300, np.random.default_rng(3), confusers=50)
    confusers = (sampler.label == 0) & (sampler.confuser >= 0) & np.isin(sampler.session, [0, 1])
    assert confusers.sum() > 50, "the test data set needs confuser windows"
    np.testing.assert_array_equal(hard[:300], plain)  # the uniform draw is unchanged
    extra = hard[300:]
    assert len(extra) == 50 and len(np.unique(hard)) == 350
    assert confusers[extra].all()
    config = TrainConfig(negatives=300, confuser_negatives=50, seed=3)
    drawn = sampler.training_set([0, 1], config, np.random.default_rng(3))
    assert (drawn.label == 0).sum() == 350 and (drawn.confuser[drawn.label == 0] >= 0).sum() >= 50


def test_mining_adds_the_highest_scoring_negatives_not_yet_drawn(window_folder):
    sampler = SessionSampler(open_window_dataset(window_folder))
    config = TrainConfig(
        negatives=1000, confuser_negatives=0, mined_negatives=200, max_epochs=2, qat_epochs=1
    )
    model = ModelConfig(hidden=(8,))
    first = sampler.training_set([0, 1], config, np.random.default_rng(4))
    result = train(prepare(first, model), model, config, quantize=False)
    assert result.quant_model is None
    mined = hardest_negatives(sampler, [0, 1], result, model, 200, first.index)
    candidates = np.setdiff1d(sampler.negatives_of([0, 1]), first.index)
    assert len(mined) == 200 and not np.isin(mined, first.index).any()
    assert (sampler.label[mined] == 0).all() and np.isin(sampler.session[mined], [0, 1]).all()
    logit = scores(
        result.float_model, prepare(sampler.take(candidates, candidates > 0), model).real
    )
    chosen = np.isin(candidates, mined)
    assert logit[chosen].min() >= logit[~chosen].max()  # the top of the candidates, exactly
    final, data = train_mined(sampler, [0, 1], model, config, np.random.default_rng(4))
    assert len(data) == len(first) + 200
    np.testing.assert_array_equal(np.sort(data.index[len(first) :]), mined)
    again, _ = train_mined(sampler, [0, 1], model, config, np.random.default_rng(4))
    x = prepare(first, model).integer[:500]
    np.testing.assert_array_equal(scores(final.quant_model, x), scores(again.quant_model, x))


def test_one_class_data_is_refused(tmp_path, window_folder):
    import shutil

    shutil.copytree(window_folder, tmp_path / "w")
    label = np.load(tmp_path / "w" / "label.npy")
    np.save(tmp_path / "w" / "label.npy", np.zeros_like(label))
    with pytest.raises(UvhuntError, match="one class only"):
        SessionSampler(open_window_dataset(tmp_path / "w"))


def test_metrics_on_known_scores():
    label = np.array([0] * 1000 + [1] * 4)
    score = np.concatenate([np.arange(1000.0), [2000.0, 999.5, 998.5, 10.0]])
    assert threshold_at(label, score, 1e-3) == 998.0  # one negative (999) above it
    assert efficiency_at(label, score, 1e-3) == pytest.approx(0.75)
    rows = efficiency_by_magnitude(
        np.array([3, 3, 5, -1]),
        np.array([4.2, 4.2, 6.5, np.nan]),
        np.array([1.0, 5.0, 2.0, 9.0]),
        threshold=3.0,
    )
    by_bin = {r["magnitude"]: (r["meteors"], r["detected"]) for r in rows}
    assert by_bin["+4…+5"] == (1, 1) and by_bin["+6…+7"] == (1, 0)


def test_scores_of_an_empty_set():
    from uvhunt.quant.models import FloatMLP

    assert scores(FloatMLP(ModelConfig()), np.zeros((0, 48), np.float32)).shape == (0,)
