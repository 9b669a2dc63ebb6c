"""The offline engine: deterministic, explainable planning and scoring with no network and no models.

Planning extracts skills and seniority from the resume, job description and tech stack (``skills``), then
fills question templates from the bank (``bank``); scoring is the rubric in ``rubric``. The same input
always gives the same output: variety between interviews comes from a hash of the input, never from chance.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections import Counter
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from server.ai import agents, bank
from server.ai.base import (
    AgentDelta,
    AgentFollowUps,
    AgentRequest,
    AnswerScore,
    Category,
    Difficulty,
    FollowUp,
    InterviewPlan,
    PlannedQuestion,
    PlanRequest,
    ReportInput,
    ReportSummary,
    ScoreRequest,
)
from server.ai.rubric import grade, measure
from server.ai.skills import (
    SENIORITY_LEVELS,
    Seniority,
    canonical,
    count_skills,
    detect_seniority,
    extract_skills,
    family_of,
    is_technical,
    lexicon,
    role_defaults,
)
from server.ai.text import concept_in, keywords, one_line, stems, words

MODEL = "viva-rubric-1"
MAX_SKILL_CHARS = 60
MAX_TEXT_CHARS = 50_000  # of the resume and the job description that the offline analysis reads
# Asked about, after the lexicon's generic defaults, when the resume, job description and role give too few
# skills to fill the plan.
FALLBACK_SKILLS = (
    "Code Review", "Object-Oriented Design", "Caching", "Concurrency", "REST APIs", "SQL", "Git", "Linux",
)  # fmt: skip


class OfflineEngine:
    """The ``offline`` provider: implements ``AIEngine`` with no I/O (each call is a pure function)."""

    name = "offline"
    model = MODEL

    async def plan(self, request: PlanRequest) -> InterviewPlan:
        return build_plan(request)

    async def score(self, request: ScoreRequest) -> AnswerScore:
        return score_answer(request)

    async def follow_up(self, question: str, answer: str) -> FollowUp:
        return suggest_follow_up(question, answer)

    async def summarise(self, report: ReportInput) -> ReportSummary:
        return summarise_report(report)

    async def close(self) -> None:
        return None

    async def stream_agent_answer(self, request: AgentRequest) -> AsyncGenerator[AgentDelta, None]:
        """The agent's playbook outline in line-sized pieces (a checkpoint between them, no delay)."""
        for piece in agents.chunks(agents.offline_answer(request)):
            yield AgentDelta(text=piece, provider=self.name, model=MODEL)
            await asyncio.sleep(0)

    async def agent_follow_ups(self, request: AgentRequest, answer: str) -> AgentFollowUps:
        return AgentFollowUps(questions=agents.offline_follow_ups(request), provider=self.name, model=MODEL)


# ---------------------------------------------------------------- planning


@dataclass(frozen=True)
class Profile:
    """What the plan is built from: the candidate's and the job's skills and seniority."""

    resume_counts: Counter[str]
    resume_skills: list[str]
    job_skills: list[str]
    matched: list[str]
    missing: list[str]
    candidate: Seniority
    required: Seniority
    title: str
    role_text: str
    resume_blank: bool
    resume_has_numbers: bool


def profile(request: PlanRequest) -> Profile:
    resume = request.resume_text[:MAX_TEXT_CHARS]
    description = request.job_description[:MAX_TEXT_CHARS]
    title = " ".join((request.job_title or request.role or "").split())[:120]
    counts = count_skills(resume)
    resume_skills = extract_skills(resume)
    stack = [canonical(item)[:MAX_SKILL_CHARS] for item in request.tech_stack if item.strip()]
    job_skills = _unique([*stack, *extract_skills(f"{title}\n{request.role or ''}\n{description}")])
    for custom in (s for s in job_skills if s not in counts):  # tech-stack names outside the lexicon
        hits = len(re.findall(rf"(?<!\w){re.escape(custom)}(?!\w)", resume, re.IGNORECASE))
        if hits:
            counts[custom] = hits
    in_resume = [s for s in job_skills if counts[s] > 0]
    ranked = sorted(in_resume, key=lambda s: (not is_technical(s), -counts[s], job_skills.index(s)))
    job_text = f"{title}\n{description}"
    return Profile(
        resume_counts=counts,
        resume_skills=resume_skills,
        job_skills=job_skills,
        matched=ranked,
        missing=[s for s in job_skills if counts[s] == 0],
        candidate=detect_seniority(resume),
        required=detect_seniority(job_text),
        title=title,
        role_text=f"{request.job_title or ''} {request.role or ''}",
        resume_blank=not resume.strip(),
        resume_has_numbers=bool(re.search(r"\d", resume)),
    )


def build_plan(request: PlanRequest) -> InterviewPlan:
    """The offline plan: questions in the seed-001 order, a match score, 3 strengths and 2 gaps."""
    prof = profile(request)
    seed = int(hashlib.sha256(request.model_dump_json().encode()).hexdigest()[:12], 16)
    categories = slots(request.count)
    questions = _questions(prof, categories, seed)
    return InterviewPlan(
        questions=questions,
        match_score=match_score(prof),
        strengths=strengths(prof),
        gaps=gaps(prof),
        skills=prof.resume_skills,
        seniority=prof.candidate.level,
        provider=OfflineEngine.name,
        model=MODEL,
    )


def slots(count: int) -> list[Category]:
    """The category of each question: intro first, behavioural last (from 3), technical in the middle.

    For 5 this is the seed-001 order: intro, technical, technical, gap, behavioral.
    """

    def repeat(category: Category, times: int) -> list[Category]:
        return [category] * times

    if count <= 2:
        return [*repeat("intro", 1), *repeat("technical", count - 1)]
    middle = count - 2
    gap_count = 0 if middle < 2 else 1 + (middle >= 8) + (middle >= 14)
    design = 1 if middle >= 5 else 0
    extra_behavioural = (middle >= 10) + (middle >= 16)
    technical = middle - gap_count - design - extra_behavioural
    return [
        "intro",
        *repeat("technical", technical),
        *repeat("system_design", design),
        *repeat("gap", gap_count),
        *repeat("behavioral", extra_behavioural + 1),
    ]


def difficulty(prof: Profile) -> Difficulty:
    level = prof.candidate.level or prof.required.level
    if level in ("intern", "junior"):
        return "easy"
    if level in ("senior", "lead", "principal"):
        return "hard"
    return "medium"


def _role_phrase(prof: Profile) -> str:
    return f"the {prof.title} role" if prof.title else "this role"


def _fill_gaps(categories: list[Category], prof: Profile) -> tuple[list[Category], list[str | None]]:
    """One gap slot per JD skill missing from the resume (None: the generic gap question, used once);
    gap slots left over become technical questions."""
    wanted = categories.count("gap")
    gap_skills: list[str | None] = [*[s for s in prof.missing if is_technical(s)][:wanted]] or [None]
    gap_skills = gap_skills[:wanted]
    surplus = wanted - len(gap_skills)
    if surplus <= 0:
        return categories, gap_skills
    kept = [c for c in categories if c != "gap"]
    at = max(i for i, c in enumerate(kept) if c in ("intro", "technical")) + 1
    gap_at = at + surplus + kept.count("system_design")
    technical: list[Category] = ["technical"] * surplus
    gap: list[Category] = ["gap"] * len(gap_skills)
    out = [*kept[:at], *technical, *kept[at:]]
    return [*out[:gap_at], *gap, *out[gap_at:]], gap_skills


def _questions(prof: Profile, categories: list[Category], seed: int) -> list[PlannedQuestion]:
    level = difficulty(prof)
    categories, gap_skills = _fill_gaps(categories, prof)
    technical = _technical_pool(prof, exclude=[s for s in gap_skills if s])
    technical_specs = _technical_specs(technical, categories.count("technical"))
    behavioural = _behavioural_templates(prof, seed)
    book = bank.question_bank()
    out: list[PlannedQuestion] = []
    for category in categories:
        if category == "intro":
            out.append(_make(book.intro[0], "intro", "easy", role=_role_phrase(prof)))
        elif category == "technical":
            skill, template = technical_specs.pop(0)
            out.append(_make(template, "technical", level, skill=skill, hard=level == "hard"))
        elif category == "system_design":
            out.append(_make(book.system_design[0], "system_design", level, skill=_design_anchor(technical)))
        elif category == "gap":
            out.append(_gap_question(gap_skills.pop(0), prof, level))
        else:
            out.append(_make(behavioural.pop(0), "behavioral", "medium"))
    return out


def _design_anchor(pool: list[str]) -> str:
    """The skill a system-design question is built around: a concrete technology, not a practice."""
    usable = [s for s in pool if family_of(s) not in ("practice", "testing", "soft", "frontend", "mobile")]
    return usable[0] if usable else "a technology you know well"


def _technical_pool(prof: Profile, exclude: list[str]) -> list[str]:
    """resume∩JD (strongest first), then the JD's other skills, then the resume's, then role defaults."""
    matched = [s for s in prof.matched if is_technical(s)]
    job_only = [s for s in prof.missing if is_technical(s) and s not in exclude]
    resume_only = sorted(
        (s for s in prof.resume_skills if is_technical(s) and s not in prof.job_skills),
        key=lambda s: (-prof.resume_counts[s], prof.resume_skills.index(s)),
    )
    defaults = list(role_defaults(prof.role_text))
    fallback = [*lexicon().generic_defaults, *FALLBACK_SKILLS]
    return _unique([*matched, *job_only, *resume_only, *defaults, *fallback])


def _technical_specs(pool: list[str], needed: int) -> list[tuple[str, bank.Template]]:
    """(skill, template) pairs: each skill's first template, then second ones, never the same text twice."""
    specs: list[tuple[str, bank.Template]] = []
    round_ = 0
    while len(specs) < needed and round_ < 4:
        for skill in pool:
            templates = bank.technical_templates(skill)
            if round_ < len(templates) and len(specs) < needed:
                specs.append((skill, templates[round_]))
        round_ += 1
    return specs


def _behavioural_templates(prof: Profile, seed: int) -> list[bank.Template]:
    """The behavioural templates in the order this interview uses them (the final question comes last)."""
    senior = (prof.candidate.rank or 0) >= SENIORITY_LEVELS.index("senior")
    book = bank.question_bank()
    pool = list(book.behavioural)
    start = seed % len(pool)
    rotated = pool[start:] + pool[:start]
    return (list(book.behavioural_senior) + rotated) if senior else rotated


def _gap_question(skill: str | None, prof: Profile, level: Difficulty) -> PlannedQuestion:
    gap_level: Difficulty = "easy" if level == "easy" else "medium"
    book = bank.question_bank()
    if skill is None:
        return _make(book.gap_generic, "gap", gap_level, role=_role_phrase(prof))
    question = _make(book.gap[0], "gap", gap_level, skill=skill)
    return question.model_copy(update={"key_concepts": bank.gap_concepts(skill)})


def _make(
    template: bank.Template,
    category: Category,
    level: Difficulty,
    *,
    skill: str = "",
    role: str = "this role",
    hard: bool = False,
) -> PlannedQuestion:
    book = bank.question_bank()
    text = template.render(skill=skill, role=role) + (book.hard_suffix if hard else "")
    concepts = list(template.concepts)
    if hard and book.hard_concept not in concepts:
        concepts.append(book.hard_concept)
    return PlannedQuestion(
        text=text,
        category=category,
        difficulty=level,
        expected_minutes=bank.minutes(category, level),
        key_concepts=concepts,
    )


def match_score(prof: Profile) -> int:
    """JD-skill coverage (technical skills weigh 1, soft 0.5) for 80 points, seniority fit for 20."""
    if prof.job_skills:
        weight = {s: 1.0 if is_technical(s) else 0.5 for s in prof.job_skills}
        coverage = sum(weight[s] for s in prof.matched) / sum(weight.values())
    else:
        coverage = 0.5 if prof.resume_skills else 0.0
    return max(0, min(100, round(100 * (0.8 * coverage + 0.2 * _seniority_fit(prof)))))


def _seniority_fit(prof: Profile) -> float:
    have, want = prof.candidate.rank, prof.required.rank
    if prof.resume_blank:
        return 0.0
    if want is None:
        return 1.0 if have is not None else 0.5
    if have is None:
        return 0.4
    return 1.0 if have >= want else 0.6 if have == want - 1 else 0.2


def strengths(prof: Profile) -> list[str]:
    """Exactly three: matched skills first, then seniority, other skills, then neutral padding."""
    items = [f"Hands-on {s} experience the role asks for" for s in prof.matched if is_technical(s)]
    if prof.candidate.level and _seniority_fit(prof) >= 1.0:
        years = prof.candidate.years
        items.append(
            f"{years}+ years of experience" if years else f"{prof.candidate.level.title()}-level title"
        )
    items += [f"Also brings {s}" for s in prof.resume_skills if is_technical(s) and s not in prof.job_skills]
    items += [f"{s} (named in the resume)" for s in prof.resume_skills if not is_technical(s)]
    items += ["Communication", "Problem solving", "Willingness to learn"]
    return _unique(items)[:3]


def gaps(prof: Profile) -> list[str]:
    """Exactly two: JD skills missing from the resume first, then seniority, then evidence gaps."""
    technical_first = sorted(prof.missing, key=lambda s: not is_technical(s))
    items = [f"No evidence of {s} in the resume" for s in technical_first]
    have, want = prof.candidate.rank, prof.required.rank
    if have is not None and want is not None and have < want:
        items.append(
            f"Less experience than the role asks for ({prof.candidate.level} vs {prof.required.level})"
        )
    if prof.resume_blank:
        items.append("The resume is empty or could not be read")
    elif not prof.resume_has_numbers:
        items.append("No measurable results in the resume")
    if prof.matched:
        items.append(f"Depth in {prof.matched[0]} to be confirmed in the interview")
    if not {"Leadership", "Mentoring"} & set(prof.resume_skills):
        items.append("No evidence of leadership or mentoring in the resume")
    items += ["Depth of hands-on experience to be verified", "Role-specific knowledge to be verified"]
    return _unique(items)[:2]


def _unique(items: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(item.lower(), item)
    return list(seen.values())


# ---------------------------------------------------------------- scoring, follow-ups, summaries


def score_answer(request: ScoreRequest) -> AnswerScore:
    accuracy, communication, behaviour, feedback, evidence = grade(measure(request))
    return AnswerScore(
        accuracy=accuracy,
        communication=communication,
        behaviour=behaviour,
        feedback=feedback,
        evidence=evidence,
        provider=OfflineEngine.name,
        model=MODEL,
    )


DEEPER = (
    "How would you apply that at ten times the scale, and what would break first?",
    "How would you test and monitor that in production?",
    "How would you explain the trade-offs of that approach to a non-technical stakeholder?",
    "How would you do it differently if you started again today?",
)
DEEPER_BEHAVIOURAL = (
    "How would you handle the same situation if it happened again tomorrow?",
    "How would the other people involved describe what you did, and what feedback did you get?",
    "How would you apply what you learned there to a team you had just joined?",
)
BEHAVIOURAL_QUESTION = re.compile(
    r"\b(?:a time|tell me about yourself|describe a (?:time|situation|project)|feedback|conflict|disagree)",
    re.IGNORECASE,
)


def suggest_follow_up(question: str, answer: str) -> FollowUp:
    """A probe naming a missed concept when the answer is short or thin; else a deeper "how would you"."""
    if not question.strip():
        return FollowUp(
            text=None, reason="no question to follow up", provider=OfflineEngine.name, model=MODEL
        )
    concepts = bank.concepts_for(question) or keywords(question)[:5]
    pool = stems(words(answer))
    matched = [c for c in concepts if concept_in(c, pool)]
    missed = [c for c in concepts if c not in matched]
    short = len(words(answer)) < 25
    if missed and (short or len(matched) < len(concepts) / 2):
        concept = missed[0]
        text = f"Could you go deeper on {concept}: how does it apply here, and how have you handled it?"
        reason = f"{'short answer' if short else 'thin answer'}; did not mention {concept}"
    elif short:
        text = "Could you walk me through a concrete example of that, step by step?"
        reason = "short answer"
    else:
        digest = int(hashlib.sha256(f"{question}\n{answer}".encode()).hexdigest()[:8], 16)
        if BEHAVIOURAL_QUESTION.search(question):
            text = DEEPER_BEHAVIOURAL[digest % len(DEEPER_BEHAVIOURAL)]
        else:
            lead = f"You mentioned {matched[0]}. " if matched else ""
            text = lead + DEEPER[digest % len(DEEPER)]
        reason = "complete answer; probing deeper"
    return FollowUp(text=one_line(text, 2000), reason=reason, provider=OfflineEngine.name, model=MODEL)


DECISIONS = {
    "HIRE": "is recommended for hire",
    "BORDERLINE": "is a borderline case that needs a second opinion",
    "REJECT": "is not recommended at this stage",
}


def summarise_report(report: ReportInput) -> ReportSummary:
    """Two to four sentences: decision and scores, strongest/weakest area, strengths, gaps."""
    who = f"The candidate for {report.job_title}" if report.job_title else "The candidate"
    verdict = DECISIONS.get(report.decision.upper(), f"has the decision {report.decision}")
    scores = {
        "technical": report.technical,
        "communication": report.communication,
        "behaviour": report.behaviour,
    }
    sentences = [
        f"{who} {verdict} (technical {report.technical:.0f}, communication {report.communication:.0f}, "
        f"behaviour {report.behaviour:.0f} out of 100)."
    ]
    best, worst = max(scores, key=lambda k: scores[k]), min(scores, key=lambda k: scores[k])
    answered = f" across {len(report.answers)} answered questions" if report.answers else ""
    if best == worst or scores[best] - scores[worst] < 5:
        sentences.append(f"Performance was even across the three areas{answered}.")
    else:
        sentences.append(f"They were strongest in {best} and weakest in {worst}{answered}.")
    if report.strengths:
        sentences.append(f"Strengths: {_listing(report.strengths[:3])}.")
    if report.gaps:
        sentences.append(f"Areas to probe further: {_listing(report.gaps[:2])}.")
    return ReportSummary(
        summary=one_line(" ".join(sentences), 4000), provider=OfflineEngine.name, model=MODEL
    )


def _listing(items: list[str]) -> str:
    return "; ".join(one_line(item, 200).rstrip(".") for item in items)
