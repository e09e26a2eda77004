"""Command-line options derived from the config dataclasses, so a new option is declared once.

Each field of a config dataclass becomes ``--field-name``: its type and default come from the field, its
choices from the ``{"a", "b"}`` type spec and its help from the first sentence of the field's entry in the
class docstring's numpydoc ``Attributes`` section. ``config_from_args`` builds the dataclass back from the
parsed arguments. Options that are not config fields (file paths, ``--plot``) are declared by hand.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import re
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["add_config_arguments", "config_from_args", "field_docs"]


def field_docs(cls: type) -> dict[str, tuple[str, str]]:
    """The numpydoc ``Attributes`` entries of a class: name -> (type spec, description).

    Parameters
    ----------
    cls : type
        A class whose docstring has an ``Attributes`` section (``name : spec`` lines, indented text).

    Returns
    -------
    dict of str to (str, str)
    """
    doc = inspect.getdoc(cls) or ""
    match = re.search(r"^Attributes\n-+\n(.*?)(?:\n\n[A-Z][a-z]+\n-+\n|\Z)", doc, flags=re.S | re.M)
    out: dict[str, tuple[str, str]] = {}
    if not match:
        return out
    name = None
    for line in match.group(1).splitlines():
        entry = re.match(r"^([A-Za-z_][\w, ]*?)\s*:\s*(.*)$", line)
        if entry and not line.startswith(" "):
            names = [n.strip() for n in entry.group(1).split(",")]
            for name in names:
                out[name] = (entry.group(2).strip(), "")
        elif name is not None and line.strip():
            for n in names:
                spec, text = out[n]
                out[n] = (spec, f"{text} {line.strip()}".strip())
    return out


def _first_sentence(text: str) -> str:
    """The description's first sentence as plain text (reST roles and literals unwrapped)."""
    text = re.sub(r":\w+:`~?([^`]+)`", r"\1", text).replace("``", "")
    sentence = re.split(r"(?<=[.;])\s", text, maxsplit=1)[0].rstrip(".;")
    if sentence.count("(") > sentence.count(")"):  # a parenthesis the cut left open
        sentence = sentence[: sentence.rindex("(")].rstrip()
    return sentence


def _base_type(hint: Any) -> tuple[Any, bool, bool]:
    """(scalar type, optional, is a tuple of them) of a field's type hint."""
    optional = False
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional, hint = len(args) < len(typing.get_args(hint)), args[0]
    if typing.get_origin(hint) in (tuple, list):
        return typing.get_args(hint)[0], optional, True
    return hint, optional, False


def _choices(spec: str, kind: type) -> list | None:
    match = re.search(r"\{(.+?)\}", spec)
    if not match:
        return None
    return [kind(item.strip().strip("\"'")) for item in match.group(1).split(",")]


def add_config_arguments(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: type,
    *,
    only: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    flags: Mapping[str, str | tuple[str, ...]] | None = None,
    defaults: Mapping[str, Any] | None = None,
    helps: Mapping[str, str] | None = None,
) -> None:
    """Add one option per field of the dataclass ``cls`` (nested dataclass fields are skipped).

    Parameters
    ----------
    parser : ArgumentParser or argument group
    cls : type
        A dataclass whose docstring documents its fields in an ``Attributes`` section.
    only : iterable of str, optional
        Expose only these fields (default: all).
    exclude : iterable of str
        Fields not to expose.
    flags : mapping, optional
        Field -> option string(s) where they differ from ``--field-name`` (e.g. ``{"l1_coefficient": "--l1"}``).
    defaults : mapping, optional
        Field -> default where the command's default differs from the dataclass's.
    helps : mapping, optional
        Field -> help text where the docstring's first sentence does not suit a command line.
    """
    docs = field_docs(cls)
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in set(exclude) or (only is not None and f.name not in set(only)) \
                or dataclasses.is_dataclass(hints[f.name]):
            continue
        kind, optional, many = _base_type(hints[f.name])
        spec, text = docs.get(f.name, ("", ""))
        default = (defaults or {}).get(f.name, f.default if f.default is not dataclasses.MISSING else f.default_factory())
        names = (flags or {}).get(f.name, "--" + f.name.replace("_", "-"))
        names = (names,) if isinstance(names, str) else tuple(names)
        help_text = (helps or {}).get(f.name) or _first_sentence(text) or f.name.replace("_", " ")
        kwargs: dict[str, Any] = {"dest": f.name, "default": default}
        if kind is bool:
            kwargs["action"] = "store_true" if not default else argparse.BooleanOptionalAction
        else:
            kwargs["type"] = kind
            kwargs["choices"] = _choices(spec, kind)
            if many:
                kwargs["nargs"] = "+"
                kwargs["default"] = list(default)
            if kwargs["choices"] is None:
                kwargs["metavar"] = {int: "N", float: "X"}.get(kind, "TEXT")
            if "default" not in help_text:  # the docstring may say it already
                help_text += f" (default {' '.join(map(str, default)) if many else default})"
        if optional and default is None and kind is not bool:
            help_text = help_text.replace(" (default None)", " (default: none)")
        parser.add_argument(*names, help=help_text.replace("%", "%%"), **kwargs)


def config_from_args(cls: type, args: argparse.Namespace, **overrides: Any) -> Any:
    """Build ``cls`` from the parsed options that :func:`add_config_arguments` added.

    Parameters
    ----------
    cls : type
        The dataclass.
    args : Namespace
        Parsed arguments (fields that were not exposed keep their dataclass defaults).
    **overrides
        Values for fields set otherwise (nested configs, a shared seed).

    Returns
    -------
    instance of cls
    """
    hints = typing.get_type_hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in overrides:
            values[f.name] = overrides[f.name]
        elif hasattr(args, f.name) and not dataclasses.is_dataclass(hints[f.name]):
            value = getattr(args, f.name)
            values[f.name] = tuple(value) if _base_type(hints[f.name])[2] else value
    return cls(**values)
