"""The ``isograph`` command line: thin subcommands over the ``isograph`` package.

Every bad input ends in one line on stderr (``isograph: error: ...``) and exit status 2, with no
traceback; warnings are one line each (``isograph: warning: ...``). Set ``ISOGRAPH_DEBUG=1`` to see the
traceback of an unexpected internal error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from collections.abc import Sequence

from isograph import __version__
from isograph.cli.common import EXIT_INPUT_ERROR, Parser
from isograph.errors import InputError

__all__ = ["SUBCOMMANDS", "build_parser", "main"]

#: Each subcommand's module and the function that adds it to the parser, in ``isograph --help`` order. A
#: module is imported only when its subcommand is built, so ``isograph explain-module`` never imports the
#: fit's, the SAE's or the structure's code (networkx, torch and the rest).
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "annotate-structure": ("isograph.cli.structure", "add_annotate_structure"),
    "convert-features": ("isograph.cli.convert", "add_convert_features"),
    "demo": ("isograph.cli.fit", "add_demo"),
    "explain-module": ("isograph.cli.explain", "add_explain_module"),
    "fit": ("isograph.cli.fit", "add_fit"),
    "make-switch-pairs": ("isograph.cli.structure", "add_make_switch_pairs"),
    "module-report": ("isograph.cli.module_report", "add_module_report"),
    "sae": ("isograph.cli.sae", "add_sae"),
    "sample-map": ("isograph.cli.sample_map", "add_sample_map"),
    "simulate": ("isograph.cli.fit", "add_simulate"),
}


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"isograph: warning: {message}", file=sys.stderr)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``isograph`` argument parser.

    Parameters
    ----------
    command : str, optional
        Build only this subcommand (a key of :data:`SUBCOMMANDS`), importing only its module; default: all
        of them, as ``isograph --help`` lists them.

    Returns
    -------
    argparse.ArgumentParser
        The parser; each subcommand sets ``run``, the function that carries it out.
    """
    parser = Parser(prog="isograph", description="IsoGraph Explorer: isoform switches behind transcript-usage modules.")
    parser.add_argument("--version", action="version", version=f"isograph-explorer {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    for name, (module, function) in SUBCOMMANDS.items():
        if command in (None, name):
            add = getattr(importlib.import_module(module), function)
            if name == "sae":  # its own subcommands use the one-line-error parser too
                add(sub, Parser)
            else:
                add(sub)
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
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv[0] if argv and argv[0] in SUBCOMMANDS else None).parse_args(argv)
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
