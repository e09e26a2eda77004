"""The ``isograph`` command line: thin subcommands over the ``isograph`` package.

Every bad input ends in one line on stderr (``isograph: error: ...``) and exit status 2, with no
traceback; warnings are one line each (``isograph: warning: ...``). Set ``ISOGRAPH_DEBUG=1`` to see the
traceback of an unexpected internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence

from isograph import __version__
from isograph.cli.common import EXIT_INPUT_ERROR, Parser
from isograph.cli.convert import add_convert_features
from isograph.cli.explain import add_explain_module
from isograph.cli.fit import add_demo, add_fit, add_simulate
from isograph.cli.module_report import add_module_report
from isograph.cli.sae import add_sae
from isograph.cli.sample_map import add_sample_map
from isograph.cli.structure import add_annotate_structure, add_make_switch_pairs
from isograph.errors import InputError

__all__ = ["build_parser", "main"]


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"isograph: warning: {message}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    """The ``isograph`` argument parser with all subcommands."""
    parser = Parser(prog="isograph", description="IsoGraph Explorer: isoform switches behind transcript-usage modules.")
    parser.add_argument("--version", action="version", version=f"isograph-explorer {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    add_annotate_structure(sub)
    add_convert_features(sub)
    add_demo(sub)
    add_explain_module(sub)
    add_fit(sub)
    add_make_switch_pairs(sub)
    add_module_report(sub)
    add_sae(sub, Parser)
    add_sample_map(sub)
    add_simulate(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``isograph``.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 ok, 2 bad input (one line on stderr), 1 internal error, 130 interrupted.
    """
    args = build_parser().parse_args(argv)
    previous = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        return args.run(args)
    except InputError as exc:
        print(f"isograph: error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except OSError as exc:  # the file system said no: a folder that is a file, no permission, a full disk
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"isograph: error: {where}{exc.strerror or exc}; check the path (an output folder must be a folder you"
              " can write to)", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except KeyboardInterrupt:
        print("isograph: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an unexpected failure: one line unless debugging
        if os.environ.get("ISOGRAPH_DEBUG"):
            raise
        print(f"isograph: internal error: {type(exc).__name__}: {exc} (set ISOGRAPH_DEBUG=1 for the"
              " traceback and please report it)", file=sys.stderr)
        return 1
    finally:
        warnings.showwarning = previous


if __name__ == "__main__":
    sys.exit(main())
