"""What every ``isograph`` subcommand shares: the one-line-error parser and the progress printer."""

from __future__ import annotations

import argparse
import sys

__all__ = ["EXIT_INPUT_ERROR", "Parser", "ProgressPrinter"]

EXIT_INPUT_ERROR = 2


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line and exit status 2."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        self.exit(EXIT_INPUT_ERROR, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


class ProgressPrinter:
    """Prints ``progress(stage, fraction, message)`` to stderr when the stage or 5% of progress changes."""

    def __init__(self, prog: str) -> None:
        self.prog, self.last = prog, ("", -1.0)

    def __call__(self, stage: str, fraction: float, message: str) -> None:
        if stage != self.last[0] or fraction - self.last[1] >= 0.05 or fraction >= 1.0:
            print(f"{self.prog}: [{fraction:4.0%}] {stage}: {message}", file=sys.stderr, flush=True)
            self.last = (stage, fraction)
