"""Fixtures of the detection tests: a small random golden model and its export folder."""

import json

import pytest

from tests.golden_models import random_golden


@pytest.fixture(scope="module")
def golden():
    return random_golden((48, 12, 6, 1), 5, 8, (7, 3), seed=4)


@pytest.fixture(scope="module")
def exported_golden(tmp_path_factory, golden):
    folder = tmp_path_factory.mktemp("export")
    golden.write(folder / "golden.npz")
    config = {
        "length": 48,
        "hidden": [12, 6],
        "preprocessing": {"shift": 5, "bits": 8},
        "weight_bits": 5,
        "bias_bits": 16,
        "activation_bits": 8,
    }
    (folder / "manifest.json").write_text(json.dumps({"model_config": config}))
    return folder
