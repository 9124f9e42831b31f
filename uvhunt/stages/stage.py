"""What a pipeline stage is. One module per stage declares a ``Stage``: its name, its folder
in a run, the folders it reads (``Input``), its own options, its run function and how its
summary reads. The command line, ``uvhunt run`` (``--from``/``--only``), the stage cache,
``--help`` and the report read these declarations through the registry
(``uvhunt.stages.STAGES``); nothing else lists the stages."""

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from uvhunt._core.errors import UvhuntError
from uvhunt._core.layout import DEFAULT_RUN
from uvhunt._core.progress import ProgressFactory

COMMON = ("json", "quiet", "verbose")
"""Options every command has; they never change what a stage writes."""


@dataclass(frozen=True)
class Input:
    """A folder (or file) a stage reads, written by another stage."""

    dest: str
    """Attribute on the parsed arguments; the option is ``--dest`` unless positional."""
    stage: str
    """Name of the stage that writes it: its folder in the default run is the default."""
    help: str
    positional: bool = False
    """A positional argument (e.g. detect's MOVIE) instead of an option with a default."""
    many: bool = False
    """A positional list (windows' sources)."""
    inside: str = ""
    """The path inside that stage's folder (a session of the simulated set), in ``uvhunt
    run`` and in an option's default."""


@dataclass(frozen=True)
class Stage:
    """One pipeline stage, as the command line and ``uvhunt run`` see it."""

    name: str
    """Subcommand and stage name, e.g. ``train``."""
    folder: str
    """Its folder in a run folder, e.g. ``model``."""
    help: str
    """One line for ``uvhunt --help``."""
    description: str
    """The command's ``--help`` text (the stage module's docstring)."""
    add_options: Callable[[argparse.ArgumentParser], None]
    """Adds the stage's own options, defaults read from its config dataclasses."""
    run: Callable[[argparse.Namespace, ProgressFactory], dict]
    """Does the work: reads ``args`` (inputs, ``out``, options), returns the summary."""
    render: Callable[[dict], str]
    """The summary as people read it."""
    inputs: tuple[Input, ...] = ()
    in_run: dict = field(default_factory=dict)
    """Option values ``uvhunt run`` sets for this stage (e.g. the windows' stride)."""
    whole_run: bool = False
    """Reads every earlier stage of a run folder (``--run``), as the report does."""
    settings: dict = field(default_factory=dict)
    """Library setting names (``UvhuntError.setting``) that differ from the option's dest."""
    out_help: str = "output folder (replaced)"
    optional: bool = False
    """Left out of ``uvhunt run`` unless named (``--only``): long studies such as sweeps."""
    background: bool = False
    """In ``uvhunt run``, runs in its own process while the next stages that do not read it
    run (the run waits for it before the first that does): a long stage beside the others."""

    def add_arguments(self, parser: argparse.ArgumentParser, folders: dict[str, str]) -> None:
        """Inputs (defaults: their folders in the default run), ``--out``, then options."""
        for source in self.inputs:
            if source.positional:
                parser.add_argument(
                    source.dest, nargs="+" if source.many else None, type=Path, help=source.help
                )
            else:
                parser.add_argument(
                    "--" + source.dest.replace("_", "-"),
                    type=Path,
                    default=DEFAULT_RUN / folders[source.stage] / source.inside,
                    help=source.help,
                )
        if self.whole_run:
            parser.add_argument("--run", type=Path, default=DEFAULT_RUN, help="run folder")
            parser.add_argument(
                "--out",
                type=Path,
                default=None,
                help=f"{self.out_help} (default: RUN/{self.folder})",
            )
        else:
            parser.add_argument(
                "--out", type=Path, default=DEFAULT_RUN / self.folder, help=self.out_help
            )
        self.add_options(parser)

    def option_dests(self, parser: argparse.ArgumentParser) -> dict[str, str]:
        """Each option's dest and its first flag (or its name if positional)."""
        return {
            a.dest: (a.option_strings[-1] if a.option_strings else a.dest.upper())
            for a in parser._actions  # argparse has no public list of a parser's actions
            if a.dest != "help"
        }

    def settings_of(self, parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict:
        """What the stage's output depends on besides its inputs: every option's value."""
        skip = {"out", "run", *COMMON, *(s.dest for s in self.inputs)}
        return {d: getattr(args, d) for d in self.option_dests(parser) if d not in skip}

    def input_paths(self, args: argparse.Namespace) -> dict[str, list[Path]]:
        """Each input stage's folders as given in ``args`` (options only)."""
        paths: dict[str, list[Path]] = {}
        for source in self.inputs:
            if source.positional:  # any movie or session the user names, not a stage's output
                continue
            value = getattr(args, source.dest)
            paths.setdefault(source.stage, []).extend(value if isinstance(value, list) else [value])
        return paths


def with_command_line_fix(
    exc: UvhuntError,
    stage: Stage,
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    flags: Callable[[str], str | None],
) -> UvhuntError:
    """``exc`` with the command-line fix a library error cannot know: the flag of the setting
    it names, and the command that writes an input it could not read."""
    hints = []
    if exc.setting is not None:
        dest = stage.settings.get(exc.setting, exc.setting)
        own = stage.option_dests(parser).get(dest)
        flag = own if own and own.startswith("-") else flags(dest)
        if flag:
            hints.append(f"on the command line: {flag}")
    if exc.path is not None:
        where = Path(exc.path).resolve()
        for producer, paths in stage.input_paths(args).items():
            if any(where.is_relative_to(Path(p).resolve()) for p in paths):
                hints.append(f"this input is written by `uvhunt {producer}`")
                break
    if not hints:
        return exc
    fix = "; ".join([exc.fix, *hints] if exc.fix else hints)
    return UvhuntError(exc.problem, path=exc.path, fix=fix, setting=exc.setting)
