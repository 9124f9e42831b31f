"""Fixtures of the detection tests: a small random golden model, its export folder, and that
export with stored track stack thresholds."""

import json
import shutil

import pytest

from tests.golden_models import random_golden
from uvhunt.detection.track_stack_integer import IntegerTrackStack


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


@pytest.fixture
def stack_export(exported_golden, tmp_path):
    """A function of the stack's and the gate's thresholds (``with_gate``: threshold,
    gate_code) and, if given, the stack–gate coincidence's, giving a copy of
    ``exported_golden`` with them stored, as ``uvhunt export`` stores them
    (``operating_threshold.track_stack``; the network's score out of reach)."""

    def export(with_gate: dict, coincidence: dict | None = None):
        folder = tmp_path / "stack_export"
        shutil.copytree(exported_golden, folder, dirs_exist_ok=True)
        manifest = json.loads((folder / "manifest.json").read_text())
        point = {"trigger": IntegerTrackStack().to_dict(), "with_gate": with_gate}
        if coincidence is not None:
            point["coincidence"] = coincidence
        operating = {"score": 10**6, "false_events_per_hour_target": 10.0, "sessions": ["s"]}
        manifest["operating_threshold"] = {**operating, "track_stack": point}
        (folder / "manifest.json").write_text(json.dumps(manifest))
        return folder

    return export
