"""The offline question bank: templates per skill, skill family and category, each with its key concepts.

A template's text holds ``{skill}`` and/or ``{role}`` placeholders. The key concepts are the ideas a good
answer names; the offline scorer measures relevance by them, and ``concepts_for`` recovers them from a
question's text (so answers to bank questions can be scored even when the caller kept only the text).

The templates are data, in ``server/ai/data/bank.toml``; ``question_bank()`` reads them on first use.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import get_args

from server.ai import data
from server.ai.base import Category, Difficulty
from server.ai.data import Entry
from server.ai.skills import FAMILIES, family_of, lexicon


@dataclass(frozen=True)
class Template:
    text: str
    concepts: tuple[str, ...]

    def render(self, skill: str = "", role: str = "this role") -> str:
        return self.text.format(skill=skill, role=role)


@dataclass(frozen=True)
class Bank:
    """``bank.toml``: the templates per skill, skill family and category, and what makes a question hard."""

    hard_suffix: str  # appended to a hard technical or system-design question ...
    hard_concept: str  # ... which then also expects this concept
    minutes: Mapping[Category, int]  # the expected answer time per category
    by_skill: Mapping[str, tuple[Template, ...]]
    by_family: Mapping[str, tuple[Template, ...]]  # "general" for a skill of no other family
    intro: tuple[Template, ...]
    gap: tuple[Template, ...]  # a skill the job needs and the resume lacks
    gap_generic: Template  # when there is no such skill
    behavioural: tuple[Template, ...]
    behavioural_senior: tuple[Template, ...]
    system_design: tuple[Template, ...]

    def templates(self) -> tuple[Template, ...]:
        """Every template, in the order ``concepts_for`` tries them."""
        groups = (*self.by_skill.values(), *self.by_family.values(), self.intro, self.gap)
        groups += (self.behavioural, self.behavioural_senior, (self.gap_generic,), self.system_design)
        return tuple(template for group in groups for template in group)


@cache
def question_bank() -> Bank:
    """The bank, read from ``bank.toml`` and checked on first use (``DataFileError`` when malformed)."""
    return parse_bank(data.read("bank.toml"))


_PLACEHOLDERS = frozenset({"skill", "role"})


def parse_bank(root: Entry) -> Bank:
    """Build the bank from the top table of ``bank.toml``; ``DataFileError`` names a bad entry."""
    groups = {"intro", "gap", "gap_generic", "behavioural", "behavioural_senior", "system_design"}
    root.only({"hard_suffix", "hard_concept", "minutes", "skill", "family", *groups})
    skill_names = {skill.name for skill in lexicon().skills}
    by_family = _by_key(root.table("family"), set(FAMILIES), f"a family ({', '.join(FAMILIES)})")
    if "general" not in by_family:
        root.fail("family.general is missing (the templates for a skill of no other family)")
    gap = _group(root, "gap")
    if any("{skill}" not in template.text for template in gap):
        root.fail("every gap template must name the missing {skill}")
    return Bank(
        hard_suffix=root.text("hard_suffix"),
        hard_concept=root.text("hard_concept"),
        minutes=_minutes(root.table("minutes")),
        by_skill=_by_key(root.table("skill"), skill_names, "a skill name in skills.toml"),
        by_family=by_family,
        intro=_group(root, "intro"),
        gap=gap,
        gap_generic=_template(root.table("gap_generic")),
        behavioural=_group(root, "behavioural"),
        behavioural_senior=_group(root, "behavioural_senior"),
        system_design=_group(root, "system_design"),
    )


def _by_key(table: Entry, allowed: set[str], what: str) -> Mapping[str, tuple[Template, ...]]:
    for key in table.data:
        if key not in allowed:
            table.fail(f"{key!r} is not {what}")
    return MappingProxyType({key: _group(table, key) for key in table.data})


def _group(table: Entry, key: str) -> tuple[Template, ...]:
    entries = table.tables(key)
    if not entries:
        table.fail(f"{key} has no templates")
    return tuple(_template(entry) for entry in entries)


def _template(entry: Entry) -> Template:
    entry.only({"text", "concepts"})
    text = entry.text("text")
    if entry.fields("text", text, _PLACEHOLDERS).count("skill") > 1:
        entry.fail("text names {skill} more than once")
    return Template(text, entry.texts("concepts"))


def _minutes(table: Entry) -> Mapping[Category, int]:
    categories: tuple[Category, ...] = get_args(Category)
    table.only(set(categories))
    found: dict[Category, int] = {}
    for category in categories:
        value = table.data[category]
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            table.fail(f"{category} must be a positive whole number of minutes")
        found[category] = value
    return MappingProxyType(found)


def technical_templates(skill: str) -> tuple[Template, ...]:
    """Skill-specific templates first, then the skill family's generic ones."""
    book = question_bank()
    own = book.by_skill.get(skill, ())
    family = book.by_family.get(family_of(skill), book.by_family["general"])
    return own + family


def minutes(category: Category, difficulty: Difficulty) -> int:
    base = question_bank().minutes[category]
    return base + 1 if difficulty == "hard" and category in ("technical", "system_design") else base


def _template_regex(template: Template, hard_suffix: str) -> re.Pattern[str]:
    parts: list[str] = []
    for literal, field_name, _spec, _conv in string.Formatter().parse(template.text):
        parts.append(re.escape(literal))
        if field_name == "skill":
            parts.append(r"(?P<skill>.{1,120}?)")
        elif field_name is not None:
            parts.append(r".{1,120}?")
    suffix = re.escape(hard_suffix)
    return re.compile(rf"\s*{''.join(parts)}(?P<hard>{suffix})?\s*", re.IGNORECASE | re.DOTALL)


@cache
def _compiled() -> tuple[tuple[re.Pattern[str], Template], ...]:
    book = question_bank()
    return tuple((_template_regex(t, book.hard_suffix), t) for t in book.templates())


def concepts_for(question: str) -> list[str]:
    """The key concepts of a bank question recovered from its text; ``[]`` for a question not from the bank.

    (Callers then fall back to the question's own keywords: a skill's bank concepts would not fit a
    question the bank did not write.)
    """
    book = question_bank()
    for regex, template in _compiled():
        match = regex.fullmatch(question)
        if match and template is book.gap[0]:
            return gap_concepts(match.group("skill"))
        if match:
            hard = bool(match.group("hard")) and book.hard_concept not in template.concepts
            return [*template.concepts, *([book.hard_concept] if hard else [])]
    return []


def gap_concepts(skill: str) -> list[str]:
    """A gap question's concepts: how the candidate would learn, plus the skill's fundamentals."""
    return [*question_bank().gap[0].concepts[:3], *technical_templates(skill)[0].concepts[:3]]
