"""Command line: ``metail2 pool SHEET --measure M …`` (docs/design.md).

``main(argv)`` runs in-process and prints exactly what the command prints;
it returns the exit code: 0 on success; 1 done, with conflicts left or records
skipped; 2 bad usage or bad data (one line per problem on stderr, naming file,
line, study and column); 3 a records-store problem; 4 the network gave out
(rerun to resume); 130 interrupted (saying what was kept); 70 an unexpected
failure. No traceback without ``--debug`` (:func:`run_command`).

Each command group is a module with ``register(subparsers)`` that adds its
subcommands with ``set_defaults(func=…)``; adding a command is one function
plus its ``add_parser`` lines.
"""
from __future__ import annotations

import argparse
import sys

from .._version import __version__
from . import analyse, bias, figures, regress, report, review, sensitivity, sheet
from ._common import Parser, UsageError

GROUPS = (analyse, regress, bias, sensitivity, sheet, review, report, figures)


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="metail2", description="Literature meta-analysis: effect sizes, "
               "random-effects pooling and subgroups, validated against R's metafor.")
    p.add_argument("--version", action="version", version=f"metail2 {__version__}")
    p.add_argument("--debug", action="store_true", help="show the Python traceback of an unexpected failure")
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
    return run_command(args)


def run_command(args) -> int:
    """The one error path: every failure becomes a few lines on stderr and an
    exit code (2 bad input or usage, 3 store, 4 network, 130 interrupted,
    70 an unexpected failure — BSD's EX_SOFTWARE, apart from the 1 some
    commands return for "done, with conflicts or skipped records");
    a traceback only with ``--debug``."""
    from ..errors import MetailError, SheetError

    def error(msg: str) -> None:
        print(f"metail2: error: {msg}", file=sys.stderr)

    try:
        return args.func(args)
    except SheetError as exc:
        for problem in exc.problems:
            print(str(problem), file=sys.stderr)
        return 2
    except MetailError as exc:
        error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        error("interrupted; " + getattr(args, "on_interrupt", "nothing was written"))
        return 130
    except OSError as exc:
        if args.debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        error(f"{where}{exc.strerror or exc}")
        return 2
    except Exception as exc:  # noqa: BLE001  (the last resort: never a traceback without --debug)
        if args.debug:
            raise
        error(f"{type(exc).__name__}: {exc} — this is a bug in metail2 or an input it does not handle; "
              "rerun with --debug for the traceback and report it")
        return 70


def run() -> None:  # console entry point
    sys.exit(main())


__all__ = ["main", "run", "build_parser"]
