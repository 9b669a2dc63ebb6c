"""Check that the installed server can run on its runtime dependencies alone.

Two checks, both needed:

1. **Declared** (static): every module that ``server/`` or ``protocol/`` imports — at the top of a file or
   inside a function — is the standard library, first-party, or comes from a distribution named in
   ``[project].dependencies`` of ``pyproject.toml``. A package that only arrives as somebody else's
   dependency (or through the ``test`` extra) is an error: the next upstream release may drop it.
2. **Importable** (dynamic): every module of ``server`` and ``protocol`` imports in this interpreter.

Usage: ``python scripts/check_install.py [--static-only]``; exit 1 with the list of problems. Uses only the
standard library, so it runs in a venv made from the runtime dependencies alone.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.metadata
import pkgutil
import re
import sys
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = ("server", "protocol")


def normalise(name: str) -> str:
    """A distribution name in its PEP 503 form (``Foo_Bar`` → ``foo-bar``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_distributions(pyproject: Path) -> set[str]:
    """The normalised names in ``[project].dependencies`` (extras and markers dropped)."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    names = set()
    for requirement in project.get("dependencies", []):
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        if match:
            names.add(normalise(match.group(1)))
    return names


def imported_modules(files: Iterable[Path]) -> dict[str, Path]:
    """Top-level module name → the first file that imports it (absolute imports only)."""
    found: dict[str, Path] = {}
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], path)
    return found


def undeclared(modules: dict[str, Path], declared: set[str], providers: dict[str, list[str]]) -> list[str]:
    """Problems: third-party modules not provided by any declared distribution (or not installed)."""
    problems = []
    for module, path in sorted(modules.items()):
        if module in sys.stdlib_module_names or module in FIRST_PARTY or module == "__future__":
            continue
        dists = {normalise(d) for d in providers.get(module, [])}
        where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        if not dists:
            problems.append(f"{module} (imported by {where}) is not installed")
        elif not dists & declared:
            problems.append(
                f"{module} (imported by {where}) comes from {', '.join(sorted(dists))}, "
                "which is not a declared runtime dependency in pyproject.toml"
            )
    return problems


def source_files() -> Iterator[Path]:
    for package in FIRST_PARTY:
        yield from sorted((ROOT / package).rglob("*.py"))


def unimportable() -> list[str]:
    """Problems: modules of the first-party packages that fail to import here."""
    problems = []
    for package_name in FIRST_PARTY:
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, package_name + "."):
            try:
                importlib.import_module(info.name)
            except Exception as exc:  # report every failure, not only the first
                problems.append(f"{info.name} does not import: {type(exc).__name__}: {exc}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--static-only", action="store_true", help="skip importing the modules")
    args = parser.parse_args(argv)
    providers = importlib.metadata.packages_distributions()
    problems = undeclared(
        imported_modules(source_files()), declared_distributions(ROOT / "pyproject.toml"), providers
    )
    if not args.static_only:
        problems += unimportable()
    for problem in problems:
        print(f"check_install: {problem}", file=sys.stderr)
    if problems:
        return 1
    print("check_install: every runtime import is declared" + ("" if args.static_only else " and imports"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
