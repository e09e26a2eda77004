"""The ``isograph`` command (console script ``isograph = isograph.cli:main``; also ``python -m isograph.cli``).

main        the parser, the error contract (one line, exit 2) and the subcommands' registry
common      the one-line-error parser and the progress printer
config_args options derived from the config dataclasses
explain     explain-module
fit         fit, simulate, demo
structure   annotate-structure, make-switch-pairs
sae         sae embed | train | kg | enrich | intervene | train-lm
"""

from isograph.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
