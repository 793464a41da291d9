"""Command line: ``metail2 pool SHEET --measure M …`` (docs/design.md).

``main(argv)`` runs in-process and prints exactly what the command prints;
it returns the exit code: 0 on success, 2 on bad usage or bad data (one line
per problem on stderr, naming file, line, study and column; no traceback),
4 when the network gave out during a search.

Each command group is a module with ``register(subparsers)`` that adds its
subcommands with ``set_defaults(func=…)``; adding a command is one function
plus its ``add_parser`` lines.
"""
from __future__ import annotations

import argparse
import sys

from .._version import __version__
from . import analyse, bias, regress, review, sensitivity, sheet
from ._common import Parser, UsageError

GROUPS = (analyse, regress, bias, sensitivity, sheet, review)


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="metail2", description="Literature meta-analysis: effect sizes, "
               "random-effects pooling and subgroups, validated against R's metafor.")
    p.add_argument("--version", action="version", version=f"metail2 {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for group in GROUPS:
        group.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError:
        return 2
    except SystemExit as exc:  # --help, --version
        return int(exc.code or 0)
    from ..errors import SheetError

    try:
        return args.func(args)
    except SheetError as exc:
        for problem in exc.problems:
            print(str(problem), file=sys.stderr)
        return 2


def run() -> None:  # console entry point
    sys.exit(main())


__all__ = ["main", "run", "build_parser"]
