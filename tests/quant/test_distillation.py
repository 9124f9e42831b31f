import json

import numpy as np
import pytest
import torch

from tests.fast_training import fast_train_config
from tests.quant.test_baselines import _data
from uvhunt.cli import main
from uvhunt.euso.window_store import open_window_dataset
from uvhunt.quant.baselines import fit_baselines
from uvhunt.quant.config import ModelConfig, TrainConfig, load_configs, replace
from uvhunt.quant.data import SessionSampler
from uvhunt.quant.distillation import fit_teacher, soft_targets
from uvhunt.quant.features import five_features
from uvhunt.quant.hard_negatives import train_mined
from uvhunt.quant.metrics import auc
from uvhunt.quant.training import prepare, train

FAST = fast_train_config(negatives=3000, max_epochs=4, hard=500)


def test_soft_targets_mix_the_teacher_and_the_label():
    label = np.array([0, 1, 1, 0])
    probability = np.array([0.2, 0.9, 0.4, 0.0], np.float32)
    np.testing.assert_array_equal(soft_targets(label, probability, 0.0), label)
    np.testing.assert_array_equal(soft_targets(label, probability, 1.0), probability)
    mixed = soft_targets(label, probability, 0.25)
    assert mixed.dtype == np.float32
    np.testing.assert_allclose(mixed, [0.05, 0.975, 0.85, 0.0], rtol=1e-6)


def test_the_teacher_is_the_evaluations_xgboost_on_the_features():
    """Fitted on the same windows and seed, the teacher is fit_baselines' xgboost/features:
    the same setting, validation AUC and probabilities; handed to fit_baselines, it is kept
    and every other baseline is fitted as without it."""
    x, label = _data()
    session = np.repeat(np.arange(6), 500)
    teacher = fit_teacher(x, label, session, seed=3)
    alone = fit_baselines(x, label, session, seed=3)
    model, kind, setting, validation_auc = alone[teacher.key]
    assert (kind, setting, validation_auc) == teacher.fitted[1:]
    features = five_features(x)
    np.testing.assert_array_equal(teacher.probability, model.predict_proba(features)[:, 1])
    given = fit_baselines(x, label, session, seed=3, fitted={teacher.key: teacher.fitted})
    assert list(given) == list(alone) and given[teacher.key] is teacher.fitted
    for name, fitted in alone.items():
        assert given[name][1:] == fitted[1:], name
    assert auc(label, teacher.probability) > 0.9  # the bump is easy for the features


def _inputs(window_folder):
    sampler = SessionSampler(open_window_dataset(window_folder))
    data = sampler.draw(sampler.sessions, FAST.negatives, np.random.default_rng(0))
    return prepare(data, ModelConfig())


def test_targets_replace_the_labels_in_the_loss_only(window_folder):
    """Targets equal to the labels train the same weights, bit for bit, as none; inverted
    targets teach the inverse, while the validation AUC (early stopping) still counts the
    labels: it falls below chance."""
    inputs = _inputs(window_folder)
    plain = train(inputs, ModelConfig(), FAST)
    same = train(inputs, ModelConfig(), FAST, targets=inputs.label.copy())
    for a, b in zip(
        plain.quant_model.state_dict().values(), same.quant_model.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    inverted = train(inputs, ModelConfig(), FAST, targets=1 - inputs.label)
    history = inverted.history["float"]["validation_auc"]
    assert history[-1] < 0.5 and history[-1] < history[0]  # learning the inverse, seen so
    assert plain.history["float"]["best_validation_auc"] > 0.7


def test_training_distils_when_asked_and_not_otherwise(window_folder):
    sampler = SessionSampler(open_window_dataset(window_folder))
    model = ModelConfig(hidden=(8,))
    taught, data = train_mined(sampler, [0, 1], model, FAST, np.random.default_rng(0))
    plain, same = train_mined(
        sampler, [0, 1], model, replace(FAST, distillation=0.0), np.random.default_rng(0)
    )
    np.testing.assert_array_equal(data.index, same.index)  # the same windows either way
    assert taught.teacher is not None and plain.teacher is None
    assert taught.teacher.probability.shape == data.label.shape
    differ = [
        not torch.equal(a, b)
        for a, b in zip(
            taught.quant_model.state_dict().values(),
            plain.quant_model.state_dict().values(),
            strict=True,
        )
    ]
    assert any(differ)


@pytest.mark.parametrize("weight", [-0.1, 1.5, float("nan")])
def test_a_distillation_weight_outside_0_1_is_refused(weight):
    with pytest.raises(ValueError, match="distillation"):
        replace(FAST, distillation=weight).validate()


def test_the_command_refuses_a_bad_weight_and_old_models_load_without_it(
    window_folder, tmp_path, capsys
):
    out = tmp_path / "model"
    code = main(
        ["train", "--windows", str(window_folder), "--out", str(out)]
        + ["--distillation", "2", "--quiet"]
    )
    assert code == 2 and not out.exists()
    assert "distillation" in capsys.readouterr().err
    config = tmp_path / "config.json"
    old = {"model": ModelConfig().to_dict(), "train": TrainConfig().to_dict()}
    del old["train"]["distillation"]
    config.write_text(json.dumps(old))
    assert load_configs(config)[1].distillation == 0.0  # trained before it existed
