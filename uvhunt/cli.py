"""The ``uvhunt`` command line: ``run`` (the whole pipeline), then one subcommand per stage
of the registry (``uvhunt.stages.STAGES``)."""

import argparse
import functools
import gc
import os
import sys
import warnings

with warnings.catch_warnings(record=True) as IMPORT_WARNINGS:
    # Libraries warn as they are imported (brevitas: no fast_hadamard_transform); such
    # warnings are shown only with --verbose.
    warnings.simplefilter("always")
    from uvhunt import __version__, pipeline
    from uvhunt._core.errors import UvhuntError
    from uvhunt.console import emit, progress_bars, warnings_off
    from uvhunt.stages import STAGES, add_common_arguments, add_stage_arguments, run_stage
    from uvhunt.stages.stage import Stage


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="uvhunt",
        description="Meteor detection on Mini-EUSO pixel light curves, from data to firmware.",
    )
    parser.add_argument("--version", action="version", version=f"uvhunt {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    formatter = argparse.ArgumentDefaultsHelpFormatter
    p = sub.add_parser(
        "run", help=pipeline.HELP, description=pipeline.__doc__, formatter_class=formatter
    )
    pipeline.add_arguments(p)
    add_common_arguments(p)
    p.set_defaults(handler=pipeline.main)
    for stage in STAGES:
        p = sub.add_parser(
            stage.name, help=stage.help, description=stage.description, formatter_class=formatter
        )
        add_stage_arguments(stage, p)
        p.set_defaults(handler=functools.partial(command, stage))
    return parser


def command(stage: Stage, args: argparse.Namespace) -> int:
    """``uvhunt STAGE``: run it, print its summary (or JSON)."""
    summary = run_stage(stage, args, progress_bars(args.quiet))
    emit(summary, stage.render(summary), args.json)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.verbose:
        for w in IMPORT_WARNINGS:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
        return _handle(args)
    with warnings_off():
        code = _handle(args)
        # what the command left (an Amaranth design not elaborated after an error warns as it
        # goes) is collected here, while foreign warnings are off
        gc.collect()
        return code


def _handle(args: argparse.Namespace) -> int:
    try:
        return int(args.handler(args) or 0)
    except UvhuntError as exc:
        print(f"uvhunt {args.command}: error: {exc.message}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `uvhunt ... --json | head`: the reader has had enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # disk full, permission denied, …: the environment, not a bug
        where = f"{exc.filename}: " if exc.filename else ""
        # some OSErrors carry no message (a Dask connection closed): name the kind at least
        said = exc.strerror or str(exc) or type(exc).__name__
        print(
            f"uvhunt {args.command}: error: {where}{said}\n"
            "  fix: check the path, its permissions and the free disk space",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print(f"uvhunt {args.command}: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
