"""scripts/check_install.py: every module the server imports is a declared runtime dependency."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def check_install() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_install", ROOT / "scripts" / "check_install.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def problems_for(tmp_path: Path, source: str) -> list[str]:
    ci = check_install()
    file = tmp_path / "mod.py"
    file.write_text(source)
    declared = ci.declared_distributions(ROOT / "pyproject.toml")
    return list(
        ci.undeclared(ci.imported_modules([file]), declared, importlib.metadata.packages_distributions())
    )


def test_the_server_imports_only_declared_distributions() -> None:
    """The real tree passes: the static check finds nothing undeclared in server/ and protocol/."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_install.py"), "--static-only"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "every runtime import is declared" in result.stdout


def test_a_package_installed_only_by_the_test_extra_is_reported(tmp_path: Path) -> None:
    """httpx is installed here (test extra) but is no runtime dependency: a function-level import of it
    is caught."""
    problems = problems_for(tmp_path, "def f():\n    import httpx\n    return httpx\n")
    assert len(problems) == 1
    assert "httpx" in problems[0] and "not a declared runtime dependency" in problems[0]


def test_a_module_that_is_not_installed_is_reported(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "from viva_no_such_package.sub import thing\n")
    assert problems == [f"viva_no_such_package (imported by {tmp_path / 'mod.py'}) is not installed"]


def test_standard_library_first_party_and_declared_imports_pass(tmp_path: Path) -> None:
    source = (
        "import json\nfrom server.config import Settings\nimport numpy\nimport jwt\nfrom . import sibling\n"
    )
    assert problems_for(tmp_path, source) == []
