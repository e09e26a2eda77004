"""Small real public data shipped inside the ``isograph`` package (``isograph.reference``).

The files and their provenance and licences are listed in ``README.md`` beside this file. They are found
through :mod:`importlib.resources`, so the same code works from a checkout, an editable install and a
regular ``pip install .``. Nothing is downloaded at run time.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["reference_path"]


def reference_path(*parts: str) -> Path:
    """The path of a shipped reference file or folder.

    Parameters
    ----------
    *parts : str
        Path components below the reference folder, e.g. ``("isar_example", "example.gtf.gz")``.

    Returns
    -------
    Path

    Raises
    ------
    FileNotFoundError
        No such file was shipped, or the package is not installed as files on disk (e.g. in a zip).
    """
    resource = files(__name__).joinpath(*parts)
    if not isinstance(resource, Path) or not resource.exists():
        raise FileNotFoundError(f"isograph reference data {'/'.join(parts)} not found at {resource}; reinstall the"
                                " package (pip install -e . from the checkout)")
    return resource
