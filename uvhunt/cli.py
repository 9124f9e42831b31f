"""The ``uvhunt`` command line: one subcommand per pipeline stage, plus ``run``."""

import argparse
import os
import sys

from uvhunt import __version__
from uvhunt.commands import (
    cosim,
    detect,
    evaluate,
    export,
    firmware,
    report,
    resources,
    rtl,
    run,
    simulate,
    train,
    windows,
)
from uvhunt.errors import UvhuntError

COMMANDS = (
    run,
    simulate,
    windows,
    train,
    evaluate,
    export,
    firmware,
    rtl,
    cosim,
    resources,
    detect,
    report,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="uvhunt",
        description="Meteor detection on Mini-EUSO pixel light curves, from data to firmware.",
    )
    parser.add_argument("--version", action="version", version=f"uvhunt {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        p = sub.add_parser(
            module.NAME,
            help=module.HELP,
            description=module.__doc__,
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
        module.add_arguments(p)
        p.add_argument("--json", action="store_true", help="print the summary as JSON")
        p.add_argument("--quiet", action="store_true", help="no progress bars")
        p.set_defaults(handler=module.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
        print(
            f"uvhunt {args.command}: error: {where}{exc.strerror or exc}\n"
            "  fix: check the path, its permissions and the free disk space",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print(f"uvhunt {args.command}: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
