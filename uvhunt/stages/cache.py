"""Which stages of a run must run again: each stage's key hashes its settings and its inputs'
keys, and a stamp records the key and summary of every stage that finished.

A stage is reused when its stamp's key equals the key it would have now and its folder is
still there; ``--from STAGE`` reruns that stage and every later one, ``--only STAGE`` only
that one (its inputs must have run before).
"""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from uvhunt._core.atomic import write_json
from uvhunt._core.errors import UvhuntError
from uvhunt._core.layout import STAMPS


@dataclass
class StagePlan:
    """The stages of a run in order, their inputs, and what ``--from``/``--only`` ask."""

    names: list[str]
    inputs: dict[str, list[str]]
    run_folder: Path
    version: str
    start: str | None = None
    only: str | None = None
    keys: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for option, stage in (("--from", self.start), ("--only", self.only)):
            if stage is not None and stage not in self.names:
                raise UvhuntError(
                    f"{option} {stage}: no such stage", fix=f"use one of: {', '.join(self.names)}"
                )

    def key(self, stage: str, settings: dict) -> str:
        payload = {
            "stage": stage,
            "uvhunt": self.version,
            "settings": settings,
            "inputs": {name: self.keys[name] for name in self.inputs.get(stage, [])},
        }
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode())
        self.keys[stage] = digest.hexdigest()[:16]
        return self.keys[stage]

    def cached(self, stage: str, folder: Path) -> dict | None:
        """The stamped summary if ``stage`` can be reused, else None (it must run)."""
        forced = (self.only == stage) or (
            self.start is not None and self.names.index(stage) >= self.names.index(self.start)
        )
        stamp = self._stamp(stage)
        if not forced and stamp.is_file() and Path(folder).exists():
            data = json.loads(stamp.read_text())
            if data.get("key") == self.keys[stage]:
                return data["summary"]
        if self.only is not None and self.only != stage:
            raise UvhuntError(
                f"--only {self.only} needs the stage '{stage}' of this run, which is missing "
                "or out of date",
                path=self.run_folder,
                fix=f"run `uvhunt run --out {self.run_folder}` first (cached stages are reused)",
            )
        return None

    def skipped(self, stage: str) -> bool:
        """With ``--only``, every stage but the chosen one and those it reads (directly or
        through others) is left alone."""
        return self.only is not None and stage != self.only and stage not in self.read_by(self.only)

    def read_by(self, stage: str) -> set[str]:
        """The stages whose results ``stage`` reads, directly or through others."""
        found: set[str] = set()
        todo = list(self.inputs.get(stage, []))
        while todo:
            name = todo.pop()
            if name not in found:
                found.add(name)
                todo.extend(self.inputs.get(name, []))
        return found

    def record(self, stage: str, summary: dict) -> None:
        self._stamp(stage).parent.mkdir(parents=True, exist_ok=True)
        write_json(self._stamp(stage), {"key": self.keys[stage], "summary": summary})

    def _stamp(self, stage: str) -> Path:
        return self.run_folder / STAMPS / f"{stage}.json"
