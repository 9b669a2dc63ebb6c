"""Report rules (seed 001 facts in DESIGN.md) and the 000 family's score views (no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean

HIRE_TECHNICAL, HIRE_BEHAVIOUR, BORDERLINE_TECHNICAL = 75, 70, 60
HR_SCALE_MAX = 5  # 000's HR scores are 0–5; stored 0–100


@dataclass(frozen=True)
class ScoredAnswer:
    accuracy: float
    communication: float
    behaviour: float


@dataclass(frozen=True)
class Scores:
    technical: float
    communication: float
    behaviour: float


def mean_scores(answers: Sequence[ScoredAnswer]) -> Scores:
    """Means of the per-answer scores, rounded to one place (requires at least one answer)."""
    return Scores(
        technical=round(fmean(a.accuracy for a in answers), 1),
        communication=round(fmean(a.communication for a in answers), 1),
        behaviour=round(fmean(a.behaviour for a in answers), 1),
    )


def decision(scores: Scores) -> str:
    """HIRE when technical ≥ 75 and behaviour ≥ 70, BORDERLINE when technical ≥ 60, else REJECT."""
    if scores.technical >= HIRE_TECHNICAL and scores.behaviour >= HIRE_BEHAVIOUR:
        return "HIRE"
    if scores.technical >= BORDERLINE_TECHNICAL:
        return "BORDERLINE"
    return "REJECT"


def hr_to_stored(score: float) -> float:
    return round(score * 100 / HR_SCALE_MAX, 1)


def stored_to_hr(score: float | None) -> float | None:
    return None if score is None else round(score * HR_SCALE_MAX / 100, 2)


def total_score(hr_overall: float | None, answer_scores: Sequence[float | None]) -> float | None:
    """000's total (0–100): the HR override when given, else the mean of the scored answers."""
    if hr_overall is not None:
        return round(hr_overall, 1)
    given = [s for s in answer_scores if s is not None]
    return round(fmean(given), 1) if given else None
