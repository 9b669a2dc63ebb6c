"""The offline AI's data files: each one loads and validates, a malformed entry fails with its file and name,
and an installed copy (the files pyproject's package-data ships, imported from another directory) finds them.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from server.ai import agents, bank, data, skills
from server.ai.data import DataFileError, Entry

ROOT = Path(__file__).resolve().parents[2]
PARSERS: dict[str, Callable[[Entry], object]] = {
    "agents.toml": agents.parse_agents,
    "bank.toml": bank.parse_bank,
    "skills.toml": skills.parse_lexicon,
}


def raw(name: str) -> dict[str, Any]:
    return tomllib.loads(resources.files(data).joinpath(name).read_text(encoding="utf-8"))


def test_every_data_file_loads_and_validates() -> None:
    """Each TOML file in server/ai/data is listed, parses afresh and equals what the modules use."""
    shipped = sorted(p.name for p in resources.files(data).iterdir() if p.name.endswith(".toml"))
    assert shipped == sorted(data.FILES) == sorted(PARSERS)
    assert skills.parse_lexicon(data.read("skills.toml")) == skills.lexicon()
    assert bank.parse_bank(data.read("bank.toml")) == bank.question_bank()
    assert agents.parse_agents(data.read("agents.toml")) == agents.load_agents() == dict(agents.AGENTS)
    assert list(agents.AGENTS) == [card["id"] for card in agents.catalog()]
    assert len(skills.lexicon().skills) > 100 and len(bank.question_bank().templates()) > 50


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    """An edit of the raw TOML: ``path`` is dotted keys and list indexes (``agent.2.signal.0.pattern``)."""

    def edit(doc: dict[str, Any]) -> None:
        *parents, last = (int(key) if key.isdigit() else key for key in path.split("."))
        target: Any = doc
        for key in parents:
            target = target[key]
        if value is None:
            del target[last]
        else:
            target[last] = value

    return edit


@pytest.mark.parametrize(
    ("name", "edit", "message"),
    [
        (
            "skills.toml",
            _set("lexicon.4.family", "lang"),
            "skills.toml: lexicon[4] ('Kotlin'): family 'lang'",
        ),
        (
            "skills.toml",
            _set("lexicon.4.aliases", ["py"]),
            "lexicon[4] ('Kotlin'): alias 'py' already belongs",
        ),
        ("skills.toml", _set("lexicon.4.name", "Python"), "lexicon[4] ('Python'): 'Python' is listed twice"),
        ("skills.toml", _set("lexicon.0.colour", "red"), "lexicon[0] ('Python'): unknown key colour"),
        ("skills.toml", _set("generic_defaults", ["Nope"]), "skills.toml: generic_defaults: 'Nope' not in"),
        ("skills.toml", _set("role_defaults.0.skills", []), "role_defaults[0]: skills must not be empty"),
        ("bank.toml", _set("skill.Python.0.text", "Use {skil}?"), "bank.toml: skill: Python[0]: text 'Use"),
        ("bank.toml", _set("skill.Cobol", [{"text": "?", "concepts": ["x"]}]), "'Cobol' is not a skill name"),
        ("bank.toml", _set("family.general", None), "family.general is missing"),
        ("bank.toml", _set("minutes.coding", None), "bank.toml: minutes: missing coding"),
        ("bank.toml", _set("intro.0.concepts", "a, b"), "intro[0]: concepts must be a list"),
        ("bank.toml", _set("gap.0.text", "What gaps?"), "every gap template must name the missing {skill}"),
        (
            "agents.toml",
            _set("agent.2.signal.0.pattern", "(oops"),
            "agent[2] ('technical'): signal[0]: pattern",
        ),
        ("agents.toml", _set("agent.2.signal.0.weight", "high"), "signal[0]: weight must be a positive"),
        ("agents.toml", _set("agent.1.id", "product_manager"), "agent[1] ('product_manager'): the id"),
        ("agents.toml", _set("agent.0.skill_families", ["cooking"]), "skill_families: 'cooking' not one of"),
        ("agents.toml", _set("agent.0.playbook.follow_ups", ["On {x}?"]), "playbook: follow_ups 'On {x}?'"),
        ("agents.toml", _set("agent.2.id", "tech"), "agents.toml: needs at least two agents, one of them"),
    ],
)
def test_a_malformed_entry_fails_naming_the_file_and_the_entry(
    name: str, edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    """A data file whose shape is wrong raises DataFileError that says which file and which entry."""
    doc = copy.deepcopy(raw(name))
    edit(doc)
    with pytest.raises(DataFileError, match=re.escape(message)):
        PARSERS[name](Entry(doc, name))


def test_a_missing_or_broken_file_is_a_data_file_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A file that is absent or is not TOML raises DataFileError naming it, not OSError or TOMLDecodeError."""
    with pytest.raises(DataFileError, match=r"^nope\.toml: cannot be read"):
        data.read("nope.toml")
    (tmp_path / "bank.toml").write_text("[minutes\n", encoding="utf-8")
    monkeypatch.setattr(data, "resources", SimpleNamespace(files=lambda _package: tmp_path))
    with pytest.raises(DataFileError, match=r"^bank\.toml: not valid TOML"):
        data.read("bank.toml")


def _installed_copy(site: Path) -> None:
    """Lay out ``server`` under ``site`` as a wheel would: its modules plus the package-data globs."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = pyproject["tool"]["setuptools"]["package-data"]["server"]
    package = ROOT / "server"
    files = {*package.rglob("*.py"), *(path for pattern in globs for path in package.glob(pattern))}
    for path in files:
        target = site / "server" / path.relative_to(package)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


INSTALLED = """
import server.ai.data, server.ai.offline
from server.ai import agents, bank, skills
assert server.ai.data.__file__.startswith(SITE), server.ai.data.__file__
loaders = (agents.load_agents, bank.question_bank, skills.lexicon)
assert not any(load.cache_info().currsize for load in loaders), "a data file was read at import time"
print(len(agents.load_agents()), len(bank.question_bank().templates()), len(skills.lexicon().skills))
"""


def test_an_installed_copy_finds_the_data_files(tmp_path: Path) -> None:
    """A copy of only what pyproject ships, imported from elsewhere, reads no file at import, then loads."""
    site, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    _installed_copy(site)
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    code = f"SITE = {str(site)!r}\n{INSTALLED}"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    expected = (len(agents.AGENTS), len(bank.question_bank().templates()), len(skills.lexicon().skills))
    assert done.stdout.split() == [str(n) for n in expected]
