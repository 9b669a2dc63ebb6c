"""A curated skills lexicon and the extraction of skills and seniority from free text (no network, no ML).

Matching is case-insensitive on word boundaries, except for the few ``exact`` aliases that are ordinary
English words in lower case ("Go", "Swift", "Spring"), which only match as written.

The lexicon and the role defaults are data, in ``server/ai/data/skills.toml``; ``lexicon()`` reads them on
first use. The seniority patterns are code, here.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType

from server.ai import data
from server.ai.data import Entry

Family = str  # one of FAMILIES


@dataclass(frozen=True)
class Skill:
    name: str
    family: Family
    aliases: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()  # case-sensitive aliases

    @property
    def technical(self) -> bool:
        return self.family != "soft"


FAMILIES: tuple[Family, ...] = (
    "language", "frontend", "backend", "database", "cloud", "devops", "data", "ml", "mobile", "testing",
    "security", "practice", "soft", "general",  # general: ``family_of`` a skill that is not in the lexicon
)  # fmt: skip


@dataclass(frozen=True)
class Lexicon:
    """``skills.toml``: the skills in the order they are scanned, their lookups, and the role defaults."""

    skills: tuple[Skill, ...]
    by_name: Mapping[str, Skill]  # lower-cased name → skill
    aliases: Mapping[str, str]  # lower-cased name or alias → canonical name
    role_defaults: tuple[tuple[str, tuple[str, ...]], ...]  # role keyword → its skills; the first found wins
    generic_defaults: tuple[str, ...]  # the skills for a role that no keyword matches


@cache
def lexicon() -> Lexicon:
    """The lexicon, read from ``skills.toml`` and checked on first use (``DataFileError`` when malformed)."""
    return parse_lexicon(data.read("skills.toml"))


def parse_lexicon(root: Entry) -> Lexicon:
    """Build the lexicon from the top table of ``skills.toml``; ``DataFileError`` names a bad entry."""
    root.only({"lexicon", "role_defaults", "generic_defaults"})
    by_name: dict[str, Skill] = {}
    aliases: dict[str, str] = {}
    for table in root.tables("lexicon"):
        entry = table.named(table.text("name"))
        skill = _skill(entry)
        if skill.name.lower() in by_name:
            entry.fail(f"{skill.name!r} is listed twice")
        by_name[skill.name.lower()] = skill
        for alias in (skill.name, *skill.aliases, *skill.exact):
            if aliases.setdefault(alias.lower(), skill.name) != skill.name:
                entry.fail(f"alias {alias!r} already belongs to {aliases[alias.lower()]!r}")
    names = {skill.name for skill in by_name.values()}
    role_defaults = tuple(_role_default(entry, names) for entry in root.tables("role_defaults"))
    generic = _known(root, "generic_defaults", names)
    return Lexicon(
        tuple(by_name.values()), MappingProxyType(by_name), MappingProxyType(aliases), role_defaults, generic
    )


def _skill(entry: Entry) -> Skill:
    entry.only({"name", "family"}, {"aliases", "exact"})
    family = entry.text("family")
    if family not in FAMILIES:
        entry.fail(f"family {family!r} is not one of {', '.join(FAMILIES)}")
    return Skill(
        entry.text("name"), family, entry.texts("aliases", empty=True), entry.texts("exact", empty=True)
    )


def _role_default(entry: Entry, names: set[str]) -> tuple[str, tuple[str, ...]]:
    entry.only({"keyword", "skills"})
    return entry.text("keyword").lower(), _known(entry, "skills", names)


def _known(entry: Entry, key: str, names: set[str]) -> tuple[str, ...]:
    """``entry[key]``: skill names, each one a lexicon name."""
    skills = entry.texts(key)
    if unknown := [name for name in skills if name not in names]:
        entry.fail(f"{key}: {', '.join(map(repr, unknown))} not in the lexicon")
    return skills


SENIORITY_LEVELS: tuple[str, ...] = ("intern", "junior", "mid", "senior", "lead", "principal")

_TITLE_NOUNS = (
    r"(?:engineer|developer|programmer|analyst|scientist|consultant|designer|architect|manager|administrator"
    r"|specialist|tester|devops|sre|dev)"
)
_TITLE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (level, re.compile(pattern, re.IGNORECASE))
    for level, pattern in (
        ("principal", rf"\b(?:principal|distinguished|chief)\s+(?:[a-z.+#-]+\s+){{0,2}}{_TITLE_NOUNS}"),
        ("principal", r"\b(?:head of engineering|cto|vp of engineering)\b"),
        ("lead", rf"\b(?:lead|staff|tech lead)\s+(?:[a-z.+#-]+\s+){{0,2}}{_TITLE_NOUNS}"),
        ("lead", rf"\b{_TITLE_NOUNS}\s+lead\b|\bteam lead\b|\btechnical lead\b|\bengineering manager\b"),
        ("senior", rf"\b(?:senior|sr\.?)\s+(?:[a-z.+#-]+\s+){{0,2}}{_TITLE_NOUNS}"),
        (
            "junior",
            rf"\b(?:junior|jr\.?|associate|entry[- ]level|graduate)\s+(?:[a-z.+#-]+\s+){{0,2}}{_TITLE_NOUNS}",
        ),
        ("intern", r"\b(?:intern|internship|trainee|apprentice)\b"),
    )
)
_YEARS = re.compile(
    r"\b(\d{1,2})(?:\.\d)?\s*\+?\s*(?:-\s*\d{1,2}\s*)?(?:years?|yrs?)\b(?:\s+of)?(?:\s+[\w+#./-]+){0,3}?\s+"
    r"(?:experience|exp\b|in\s+(?:the\s+)?industry|professional)",
    re.IGNORECASE,
)
_YEARS_AFTER = re.compile(r"\bexperience\s*(?:of|:)\s*(\d{1,2})\s*\+?\s*(?:years?|yrs?)\b", re.IGNORECASE)
_YEARS_BARE = re.compile(r"\b(\d{1,2})\s*\+\s*(?:years?|yrs?)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Seniority:
    level: str | None  # one of SENIORITY_LEVELS, or None without evidence
    years: int | None
    evidence: tuple[str, ...] = field(default=())

    @property
    def rank(self) -> int | None:
        return None if self.level is None else SENIORITY_LEVELS.index(self.level)


def _alias_pattern(alias: str) -> str:
    body = re.escape(alias).replace(r"\ ", r"[\s_-]+")
    return rf"(?<![\w+#@.-]){body}(?![\w+#-]|\.\w)"


@cache
def _pattern(skill: Skill) -> re.Pattern[str]:
    names = {skill.name.lower(), *(alias.lower() for alias in skill.aliases)} - {
        a.lower() for a in skill.exact
    }
    if len(skill.name) == 1:  # "R": only through its longer aliases
        names.discard(skill.name.lower())
    ordered = sorted(names, key=len, reverse=True)
    insensitive = "|".join(_alias_pattern(alias) for alias in ordered) or r"(?!x)x"
    exact = "|".join(_alias_pattern(alias) for alias in skill.exact)
    if exact:
        return re.compile(rf"(?i:{insensitive})|{exact}")
    return re.compile(insensitive, re.IGNORECASE)


def _maybe_present(skill: Skill, text: str, lowered: str) -> bool:
    """A cheap substring pre-check so the word-boundary regex only runs for skills that may be there."""
    if any(alias in text for alias in skill.exact):
        return True
    return any(_first_word(alias) in lowered for alias in (skill.name.lower(), *skill.aliases))


@cache
def _first_word(alias: str) -> str:
    return alias.lower().split()[0]


_GO_VERB = re.compile(r"\bGo(?=\s+(?:to|ahead|back|through|on|over|for|with|into|beyond|live)\b)")


def count_skills(text: str) -> Counter[str]:
    """How many times each lexicon skill is mentioned in ``text`` (canonical names)."""
    counts: Counter[str] = Counter()
    if not text:
        return counts
    lowered = text.lower()
    for skill in lexicon().skills:
        if not _maybe_present(skill, text, lowered):
            continue
        hits = len(_pattern(skill).findall(text))
        if skill.name == "Go":
            hits -= len(_GO_VERB.findall(text))
        if hits > 0:
            counts[skill.name] = hits
    return counts


def extract_skills(text: str) -> list[str]:
    """Canonical skill names mentioned in ``text``, in order of first mention."""
    counts = count_skills(text)
    by_name = lexicon().by_name
    positions: dict[str, int] = {}
    for name in counts:
        match = _pattern(by_name[name.lower()]).search(text)
        positions[name] = match.start() if match else len(text)
    return sorted(counts, key=lambda name: (positions[name], name))


def canonical(name: str) -> str:
    """The lexicon name for a free-form skill (``"k8s"`` → ``"Kubernetes"``), else the input tidied."""
    cleaned = " ".join(name.split())
    aliases = lexicon().aliases
    if cleaned.lower() in aliases:
        return aliases[cleaned.lower()]
    found = extract_skills(cleaned)
    if len(found) == 1 and len(cleaned) <= len(found[0]) + 12:
        return found[0]
    return cleaned


def family_of(name: str) -> Family:
    skill = lexicon().by_name.get(name.lower())
    return skill.family if skill else "general"


def is_technical(name: str) -> bool:
    return family_of(name) != "soft"


def role_defaults(role_text: str) -> tuple[str, ...]:
    """Skills usually asked about for a role title ("Senior Data Engineer" → SQL, ETL, ...)."""
    lowered = f" {role_text.lower()} "
    found = lexicon()
    for keyword, skills in found.role_defaults:
        if re.search(rf"(?<![a-z]){re.escape(keyword)}", lowered):
            return skills
    return found.generic_defaults


def years_of_experience(text: str) -> int | None:
    """The largest plausible "N years of experience" figure in ``text``."""
    found = [int(m.group(1)) for regex in (_YEARS, _YEARS_AFTER, _YEARS_BARE) for m in regex.finditer(text)]
    plausible = [years for years in found if 0 < years <= 45]
    return max(plausible) if plausible else None


def _level_from_years(years: int) -> str:
    if years < 2:
        return "junior"
    if years < 5:
        return "mid"
    return "senior"


def detect_seniority(text: str) -> Seniority:
    """Seniority from titles (senior, lead, principal, junior, intern) and years of experience: the higher."""
    years = years_of_experience(text)
    candidates: list[tuple[int, str]] = []
    evidence: list[str] = []
    if years is not None:
        candidates.append((SENIORITY_LEVELS.index(_level_from_years(years)), f"{years} years of experience"))
    for level, pattern in _TITLE_PATTERNS:
        match = pattern.search(text)
        if match:
            candidates.append((SENIORITY_LEVELS.index(level), f"title: {' '.join(match.group(0).split())}"))
    if not candidates:
        return Seniority(None, None)
    rank, _ = max(candidates)
    evidence = [note for level_rank, note in sorted(candidates, reverse=True) if level_rank == rank]
    return Seniority(SENIORITY_LEVELS[rank], years, tuple(evidence))
