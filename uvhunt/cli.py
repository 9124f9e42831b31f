"""The ``uvhunt`` command line: one subcommand per pipeline stage, plus ``run``."""

import argparse
import sys

from uvhunt import __version__
from uvhunt.commands import run, simulate, windows
from uvhunt.errors import UvhuntError

COMMANDS = (run, simulate, windows)


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
    except BrokenPipeError:  # e.g. `uvhunt ... --json | head`
        sys.stdout = None
        return 0
    except KeyboardInterrupt:
        print(f"uvhunt {args.command}: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
