"""Error and warning types shared by the compute layer.

Every problem with a user's input is raised as :class:`InputError` with a one-line message that names
the file, the column or row, and what to do. The CLI prints that line and exits with status 2; the app
shows it in an alert. Recoverable oddities (dropped samples, missing optional columns) are warned with
:class:`InputWarning`.
"""

from __future__ import annotations

import warnings


class InputError(ValueError):
    """A user-supplied file or table violates a data contract. The message is one line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


class DatasetError(InputError):
    """A data set, or one of its files, that cannot be opened (unknown, outside the root, damaged, incomplete)."""


class InputWarning(UserWarning):
    """A user-supplied input was accepted with a change the user should know about."""


def warn(message: str) -> None:
    """Emit an :class:`InputWarning` attributed to the caller of the public function."""
    warnings.warn(" ".join(str(message).split()), InputWarning, stacklevel=3)


