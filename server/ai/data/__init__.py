"""The offline AI's data files (``agents.toml``, ``bank.toml``, ``skills.toml``) and the reader they share.

The files ship inside the package (``[tool.setuptools.package-data]``) and are read through
``importlib.resources``, so an installed copy finds them wherever it lives, whatever the current directory.
Each module that owns a file parses it once, on first use (``functools.cache``), and checks its shape with
``Entry``: a malformed file raises ``DataFileError`` naming the file and the entry.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping, Set
from dataclasses import dataclass
from importlib import resources
from typing import NoReturn

FILES = ("agents.toml", "bank.toml", "skills.toml")


class DataFileError(ValueError):
    """A data file is missing or malformed; the message starts with the file and the entry."""


def read(name: str) -> Entry:
    """The top-level table of the data file ``name`` (one of ``FILES``)."""
    try:
        text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    except OSError as exc:
        raise DataFileError(f"{name}: cannot be read ({exc.strerror or exc})") from exc
    try:
        return Entry(tomllib.loads(text), name)
    except tomllib.TOMLDecodeError as exc:
        raise DataFileError(f"{name}: not valid TOML ({exc})") from exc


@dataclass(frozen=True)
class Entry:
    """A table of a data file and where it is (``"agents.toml: agent[2] ('technical'): playbook"``).

    The getters check a value's type and raise ``DataFileError`` naming the entry and the key.
    """

    data: Mapping[str, object]
    where: str

    def fail(self, message: str) -> NoReturn:
        raise DataFileError(f"{self.where}: {message}")

    def only(self, required: Set[str], optional: Set[str] = frozenset()) -> None:
        """Fail unless every ``required`` key is present and no key is outside ``required | optional``."""
        if missing := sorted(required - self.data.keys()):
            self.fail(f"missing {', '.join(missing)}")
        if unknown := sorted(self.data.keys() - required - optional):
            self.fail(f"unknown key {', '.join(unknown)} (expected {', '.join(sorted(required | optional))})")

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{key} must be a non-empty string")
        return value

    def texts(self, key: str, *, empty: bool = False) -> tuple[str, ...]:
        """A list of non-empty strings (``[]`` when the key is absent and ``empty`` allows it)."""
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(f"{key} must be a list of non-empty strings")
        if not value and not empty:
            self.fail(f"{key} must not be empty")
        return tuple(value)

    def number(self, key: str) -> float:
        value = self.data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            self.fail(f"{key} must be a positive number")
        return float(value)

    def fields(self, key: str, text: str, allowed: Set[str]) -> list[str]:
        """The placeholders of ``text``, the ``str.format`` template in ``key``; each must be ``allowed``."""
        try:
            found = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
        except ValueError as exc:  # a lone brace
            self.fail(f"{key} {text!r}: {exc}")
        if unknown := sorted(set(found) - allowed):
            names = ", ".join(f"{{{name}}}" for name in sorted(allowed)) or "none"
            self.fail(f"{key} {text!r} has the placeholder {{{unknown[0]}}} (allowed: {names})")
        return found

    def table(self, key: str, label: str | None = None) -> Entry:
        value = self.data.get(key)
        if not isinstance(value, dict):
            self.fail(f"{key} must be a table")
        return Entry(value, f"{self.where}: {label or key}")

    def tables(self, key: str) -> list[Entry]:
        """An array of tables, each labelled ``key[index]`` (``[]`` when absent)."""
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.fail(f"{key} must be an array of tables")
        return [Entry(item, f"{self.where}: {key}[{index}]") for index, item in enumerate(value)]

    def named(self, name: str) -> Entry:
        """The same table, its location followed by ``name`` (an entry's id, once it is known)."""
        return Entry(self.data, f"{self.where} ({name!r})")
