"""Fixtures of the hardware co-simulation tests: one briefly trained model, exported."""

import pytest

from tests.fast_training import TRAIN_FLAGS
from uvhunt.cli import main

TRAIN = [*TRAIN_FLAGS, "--hidden", "16,8"]
"""The default bit widths on a 48-16-8-1 network: fast to build and to simulate."""


@pytest.fixture(scope="session")
def trained(window_folder, tmp_path_factory):
    """A folder holding ``model/`` (uvhunt train) and ``export/`` (uvhunt export)."""
    root = tmp_path_factory.mktemp("trained")
    w = ["--windows", str(window_folder)]
    assert main(["train", *w, "--out", str(root / "model"), *TRAIN]) == 0
    sessions = ["--sessions", str(window_folder.parent)]
    out = ["--out", str(root / "export"), "--quiet"]
    assert main(["export", "--model", str(root / "model"), *w, *sessions, *out]) == 0
    return root
