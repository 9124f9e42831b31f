"""What a co-simulation run showed: the JUnit XML's verdicts and each test's JSON figures."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path


def junit_verdicts(path: Path) -> dict[str, str]:
    """``{test name: "passed" | "failed" | "error" | "skipped"}`` from a JUnit XML file."""
    verdicts = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        verdict = "passed"
        for tag in ("failure", "error", "skipped"):
            if case.find(tag) is not None:
                verdict = {"failure": "failed"}.get(tag, tag)
        verdicts[case.get("name")] = verdict
    return verdicts


def test_results(folder: Path) -> dict[str, dict]:
    """Each test's JSON record, by test name."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(Path(folder).glob("*.json"))}
