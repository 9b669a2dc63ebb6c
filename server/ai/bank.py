"""The offline question bank: templates per skill, skill family and category, each with its key concepts.

A template's text holds ``{skill}`` and/or ``{role}`` placeholders. The key concepts are the ideas a good
answer names; the offline scorer measures relevance by them, and ``concepts_for`` recovers them from a
question's text (so answers to bank questions can be scored even when the caller kept only the text).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import cache

from server.ai.base import Category, Difficulty
from server.ai.skills import family_of


@dataclass(frozen=True)
class Template:
    text: str
    concepts: tuple[str, ...]

    def render(self, skill: str = "", role: str = "this role") -> str:
        return self.text.format(skill=skill, role=role)


def _t(text: str, concepts: str) -> Template:
    """A template and its key concepts, given as one comma-separated string."""
    return Template(text, tuple(c.strip() for c in concepts.split(",")))


HARD_SUFFIX = " What trade-offs would you weigh at production scale?"
HARD_CONCEPT = "trade-offs"

BY_SKILL: dict[str, tuple[Template, ...]] = {
    "Python": (
        _t(
            "In {skill}, how do generators and context managers work, and where have you used them in real"
            " code?",
            "generator, yield, iterator, memory, context manager, cleanup",
        ),
        _t(
            "How do you handle concurrency in {skill}: threads, asyncio or multiprocessing, and how do you"
            " choose?",
            "GIL, asyncio, threads, multiprocessing, CPU-bound, blocking",
        ),
    ),
    "JavaScript": (
        _t(
            "Explain the {skill} event loop: how do callbacks, promises and async/await get scheduled?",
            "event loop, call stack, promise, microtask, await, non-blocking",
        ),
        _t(
            "How do closures and the value of `this` work in {skill}, and where have they caught you out?",
            "closure, scope, this, binding, arrow function",
        ),
    ),
    "TypeScript": (
        _t(
            "How do you use the {skill} type system (generics, unions, narrowing) to catch bugs before "
            "runtime?",
            "generics, union, narrowing, interface, strict, inference",
        ),
    ),
    "Java": (
        _t(
            "How does memory management work on the JVM for {skill} services, and how would you find a leak?",
            "heap, garbage collection, stack, memory leak, profiler, references",
        ),
        _t(
            "How do you write thread-safe {skill} code, and which concurrency tools do you reach for?",
            "threads, synchronized, executor, volatile, deadlock, concurrent collections",
        ),
    ),
    "Go": (
        _t(
            "How do goroutines and channels work in {skill}, and how do you avoid leaks and races?",
            "goroutine, channel, select, context, race, mutex",
        ),
    ),
    "C#": (
        _t(
            "How does async/await work in {skill}, and what mistakes with it have you seen in production?",
            "async, await, task, deadlock, thread pool, cancellation",
        ),
    ),
    "React": (
        _t(
            "How does {skill} decide when to re-render, and how have you fixed a slow component?",
            "state, props, re-render, memo, key, profiler",
        ),
        _t(
            "How do you use hooks like useEffect in {skill} correctly, including cleanup and dependencies?",
            "useEffect, dependency array, cleanup, state, custom hook, stale closure",
        ),
    ),
    "Node.js": (
        _t(
            "How does {skill} stay responsive under load, and what would block its event loop?",
            "event loop, non-blocking, callbacks, promises, worker threads, streams",
        ),
    ),
    "CSS": (
        _t(
            "How do you build a responsive layout in {skill}, and how do you keep styles from colliding?",
            "box model, flexbox, grid, specificity, responsive, media queries",
        ),
    ),
    "SQL": (
        _t(
            "A {skill} query that used to take 50 ms now takes 5 seconds. How do you find and fix the cause?",
            "index, query plan, explain, join, statistics, full scan",
        ),
        _t(
            "How do transactions and isolation levels work in {skill}, and when have they mattered to you?",
            "transaction, isolation, ACID, locking, deadlock, rollback",
        ),
    ),
    "PostgreSQL": (
        _t(
            "How would you diagnose a slow query in {skill} and make it fast again?",
            "index, explain analyze, query plan, vacuum, statistics, join",
        ),
        _t(
            "How does {skill} handle concurrent writes, and how do you keep the data consistent?",
            "MVCC, transaction, isolation, locking, constraints, connection pooling",
        ),
    ),
    "MongoDB": (
        _t(
            "How do you design documents in {skill}: when do you embed and when do you reference?",
            "schema design, embedding, references, index, aggregation, sharding",
        ),
    ),
    "Redis": (
        _t(
            "How have you used {skill} as a cache, and how do you keep cached data correct?",
            "cache, TTL, eviction, invalidation, persistence, consistency",
        ),
    ),
    "Docker": (
        _t(
            "How do you write a production-ready {skill} image, and what makes it small, fast and secure?",
            "image, layers, multi-stage, Dockerfile, non-root, cache",
        ),
    ),
    "Kubernetes": (
        _t(
            "How do you deploy and scale a service on {skill} without downtime?",
            "pod, deployment, service, replicas, probes, rolling update",
        ),
        _t(
            "A pod keeps restarting in {skill}. How do you find out why and fix it?",
            "logs, describe, events, liveness probe, resources, crash loop",
        ),
    ),
    "AWS": (
        _t(
            "How would you design a secure, highly available web service on {skill}?",
            "IAM, VPC, availability zones, load balancer, autoscaling, cost",
        ),
    ),
    "Terraform": (
        _t(
            "How do you structure {skill} code for several environments, and how do you manage state safely?",
            "state, modules, plan, remote backend, locking, drift",
        ),
    ),
    "CI/CD": (
        _t(
            "Describe a {skill} pipeline you built or improved: which stages, and how do you roll back?",
            "pipeline, build, automated tests, deployment, rollback, artifacts",
        ),
    ),
    "Kafka": (
        _t(
            "How do partitions and consumer groups work in {skill}, and how do you handle ordering and "
            "retries?",
            "topic, partition, consumer group, offset, ordering, idempotent",
        ),
    ),
    "Machine Learning": (
        _t(
            "How do you know a {skill} model generalises rather than overfits, and which metrics do you "
            "trust?",
            "overfitting, validation, cross-validation, regularization, metrics, baseline",
        ),
        _t(
            "Walk me through building a {skill} model end to end, from features to evaluation.",
            "features, data leakage, baseline, training, evaluation, monitoring",
        ),
    ),
    "Deep Learning": (
        _t(
            "How do you train a {skill} model that is not converging or is overfitting?",
            "learning rate, loss, gradient, overfitting, regularization, batch size",
        ),
    ),
    "Statistics": (
        _t(
            "How would you design and read an A/B test, and what can make its result misleading?",
            "hypothesis, p-value, sample size, significance, confidence interval, bias",
        ),
    ),
    "Pandas": (
        _t(
            "How do you clean and reshape a large dataset in {skill} efficiently?",
            "dataframe, groupby, merge, missing values, vectorized, memory",
        ),
    ),
    "Apache Spark": (
        _t(
            "How do you find and fix a slow {skill} job?",
            "partition, shuffle, skew, lazy evaluation, caching, broadcast join",
        ),
    ),
    "ETL": (
        _t(
            "How do you make an {skill} pipeline reliable when sources are late, duplicated or wrong?",
            "idempotent, retries, backfill, data quality, schema, monitoring",
        ),
    ),
    "REST APIs": (
        _t(
            "How do you design {skill} that clients can rely on as they evolve?",
            "resources, HTTP methods, status codes, idempotent, versioning, pagination",
        ),
    ),
    "Microservices": (
        _t(
            "How do you decide service boundaries in {skill}, and how do services stay consistent?",
            "boundaries, data ownership, events, consistency, observability, failure",
        ),
    ),
    "Git": (
        _t(
            "How do you use {skill} in a team: branching, reviews, and recovering from a bad merge?",
            "branch, merge, rebase, conflict, pull request, revert",
        ),
    ),
    "Linux": (
        _t(
            "A {skill} server is slow and nearly out of memory. How do you investigate?",
            "process, memory, CPU, logs, disk, load average",
        ),
    ),
    "Unit Testing": (
        _t(
            "How do you decide what to unit test, and how do you keep tests fast and trustworthy?",
            "unit test, edge cases, fixtures, mock, coverage, isolation",
        ),
    ),
    "Data Structures": (
        _t(
            "How do you choose a data structure for a problem? Give an example where the choice mattered.",
            "hash map, array, tree, complexity, big O, memory",
        ),
    ),
    "OAuth": (
        _t(
            "Walk me through an {skill} authorization code flow and the security mistakes to avoid.",
            "authorization code, access token, refresh token, scope, PKCE, redirect",
        ),
    ),
    "Android": (
        _t(
            "How do you handle the {skill} activity lifecycle and background work without leaks?",
            "lifecycle, activity, ViewModel, background, memory leak, configuration change",
        ),
    ),
    "iOS": (
        _t(
            "How do you manage memory and threading in an {skill} app?",
            "ARC, retain cycle, main thread, memory, background, lifecycle",
        ),
    ),
    "Caching": (
        _t(
            "Where would you add {skill} to a slow service, and how do you keep the cache correct?",
            "cache invalidation, TTL, hit rate, eviction, consistency, stampede",
        ),
    ),
    "Debugging": (
        _t(
            "Tell me how you track down a bug that only happens in production.",
            "reproduce, logs, hypothesis, root cause, fix, regression test",
        ),
    ),
}

BY_FAMILY: dict[str, tuple[Template, ...]] = {
    "language": (
        _t(
            "Which {skill} features do you rely on most, and which pitfalls have you learned to avoid?",
            "types, memory, error handling, performance, testing, idioms",
        ),
        _t(
            "How do you structure and test a medium-sized {skill} codebase so that it stays maintainable?",
            "modules, tests, dependencies, code review, linting, documentation",
        ),
    ),
    "frontend": (
        _t(
            "How do you keep a {skill} front end fast and accessible as it grows?",
            "bundle size, lazy loading, rendering, caching, accessibility, profiling",
        ),
        _t(
            "How do you manage state and data fetching in a {skill} application?",
            "state, components, caching, loading, errors, props",
        ),
    ),
    "backend": (
        _t(
            "Walk me through how you would build and secure an API with {skill}.",
            "routing, validation, authentication, database, errors, tests",
        ),
        _t(
            "How do you handle errors, timeouts and retries when a {skill} service calls other services?",
            "timeout, retry, backoff, idempotent, circuit breaker, logging",
        ),
    ),
    "database": (
        _t(
            "How would you diagnose and fix a slow query in {skill}?",
            "index, query plan, explain, join, statistics, caching",
        ),
        _t(
            "How do you design a schema in {skill} and keep data consistent under concurrent writes?",
            "normalization, constraints, transactions, isolation, locking, migration",
        ),
    ),
    "cloud": (
        _t(
            "How would you deploy a web service on {skill} so that it is secure, scalable and cost-aware?",
            "permissions, network, autoscaling, load balancer, monitoring, cost",
        ),
    ),
    "devops": (
        _t(
            "How have you used {skill} in a delivery pipeline, and how do you make deployments safe?",
            "pipeline, automation, rollback, monitoring, configuration, secrets",
        ),
        _t(
            "A change rolled out with {skill} just broke production. How do you respond?",
            "rollback, logs, metrics, root cause, postmortem, communication",
        ),
    ),
    "data": (
        _t(
            "Describe a pipeline or analysis you built with {skill}: how did you make sure the data was "
            "correct?",
            "validation, data quality, missing values, schema, tests, monitoring",
        ),
    ),
    "ml": (
        _t(
            "How would you take a {skill} model from experiment to production, and know it keeps working?",
            "validation, metrics, baseline, deployment, monitoring, drift",
        ),
    ),
    "mobile": (
        _t(
            "How do you handle offline use, performance and releases in a {skill} app?",
            "offline, caching, performance, lifecycle, testing, release",
        ),
    ),
    "testing": (
        _t(
            "How do you decide what to cover with {skill}, and how do you keep the suite fast and reliable?",
            "coverage, unit, integration, flaky, fixtures, continuous integration",
        ),
    ),
    "security": (
        _t(
            "How do you apply {skill} in a web application, and which mistakes do you watch for?",
            "threat model, authentication, authorization, encryption, input validation, secrets",
        ),
    ),
    "practice": (
        _t(
            "How do you apply {skill} in day-to-day engineering? Give an example from your work.",
            "example, design, trade-offs, testing, documentation, team",
        ),
    ),
    "general": (
        _t(
            "How have you used {skill} in a real project, and what did you learn about its strengths and "
            "limits?",
            "project, use case, limitations, alternatives, trade-offs, performance",
        ),
    ),
}

INTRO: tuple[Template, ...] = (
    _t(
        "Tell me about yourself and the experience that best prepares you for {role}.",
        "experience, project, impact, interest",
    ),
)

GAP: tuple[Template, ...] = (
    _t(
        "The role calls for {skill}, which your resume does not mention. What exposure have you had to it,"
        " and how would you get productive with it quickly?",
        "exposure, learning plan, documentation, practice, related experience",
    ),
)

GAP_GENERIC = _t(
    "Which requirement of {role} are you least experienced with, and how would you close that gap in your "
    "first months?",
    "gap, learning plan, practice, mentor, feedback",
)

BEHAVIOURAL: tuple[Template, ...] = (
    _t(
        "Tell me about a time you disagreed with a teammate about a technical decision. How did you handle"
        " it, and what was the outcome?",
        "situation, listened, data, compromise, outcome, learned",
    ),
    _t(
        "Describe a project that did not go to plan. What did you do, and what did you learn?",
        "situation, action, ownership, result, learned, communication",
    ),
    _t(
        "Tell me about a time you had to deliver under a tight deadline. How did you prioritise?",
        "prioritise, scope, stakeholders, communication, result, trade-offs",
    ),
    _t(
        "Tell me about feedback you received that changed how you work.",
        "feedback, situation, action, improved, result, learned",
    ),
)

BEHAVIOURAL_SENIOR: tuple[Template, ...] = (
    _t(
        "Tell me about a time you led a team through a difficult technical decision. How did you get "
        "alignment, and how did it turn out?",
        "situation, stakeholders, alignment, decision, mentoring, outcome",
    ),
)

SYSTEM_DESIGN: tuple[Template, ...] = (
    _t(
        "How would you design a service that handles a million users a day, built around {skill}? Cover "
        "the main components, the data flow and how it scales.",
        "requirements, database, caching, load balancer, scaling, monitoring",
    ),
)

EXPECTED_MINUTES: dict[Category, int] = {
    "intro": 2,
    "technical": 4,
    "gap": 3,
    "behavioral": 3,
    "system_design": 8,
    "coding": 10,
    "follow_up": 2,
}


def technical_templates(skill: str) -> tuple[Template, ...]:
    """Skill-specific templates first, then the skill family's generic ones."""
    own = BY_SKILL.get(skill, ())
    family = BY_FAMILY.get(family_of(skill), BY_FAMILY["general"])
    return own + family


def minutes(category: Category, difficulty: Difficulty) -> int:
    base = EXPECTED_MINUTES[category]
    return base + 1 if difficulty == "hard" and category in ("technical", "system_design") else base


def _all_templates() -> tuple[Template, ...]:
    groups = (*BY_SKILL.values(), *BY_FAMILY.values(), INTRO, GAP, BEHAVIOURAL, BEHAVIOURAL_SENIOR)
    return (*(t for group in groups for t in group), GAP_GENERIC, *SYSTEM_DESIGN)


def _template_regex(template: Template) -> re.Pattern[str]:
    parts: list[str] = []
    for literal, field_name, _spec, _conv in string.Formatter().parse(template.text):
        parts.append(re.escape(literal))
        if field_name == "skill":
            parts.append(r"(?P<skill>.{1,120}?)")
        elif field_name is not None:
            parts.append(r".{1,120}?")
    suffix = re.escape(HARD_SUFFIX)
    return re.compile(rf"\s*{''.join(parts)}(?P<hard>{suffix})?\s*", re.IGNORECASE | re.DOTALL)


@cache
def _compiled() -> tuple[tuple[re.Pattern[str], Template], ...]:
    return tuple((_template_regex(t), t) for t in _all_templates())


def concepts_for(question: str) -> list[str]:
    """The key concepts of a bank question recovered from its text; ``[]`` for a question not from the bank.

    (Callers then fall back to the question's own keywords: a skill's bank concepts would not fit a
    question the bank did not write.)
    """
    for regex, template in _compiled():
        match = regex.fullmatch(question)
        if match and template is GAP[0]:
            return gap_concepts(match.group("skill"))
        if match:
            extra = [HARD_CONCEPT] if match.group("hard") and HARD_CONCEPT not in template.concepts else []
            return [*template.concepts, *extra]
    return []


def gap_concepts(skill: str) -> list[str]:
    """A gap question's concepts: how the candidate would learn, plus the skill's fundamentals."""
    return [*GAP[0].concepts[:3], *technical_templates(skill)[0].concepts[:3]]
