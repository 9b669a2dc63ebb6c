"""Rules of the HR evaluation form (seed 004) and the CV/interview status sync."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from server.domain.errors import InvalidInput
from server.store.models import RATING_FIELDS, CvStatus, Decision

MIN_RATING, MAX_RATING = 0, 10


def average_rating(ratings: Mapping[str, int | None]) -> float | None:
    """Mean of the given ratings, rounded to two places; None when none is given."""
    given = [value for field in RATING_FIELDS if (value := ratings.get(field)) is not None]
    if not given:
        return None
    return round(sum(given) / len(given), 2)


def parse_rating(field: str, value: object) -> int | None:
    """A rating is a whole number 0–10 (form strings accepted); empty means not given."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidInput("Invalid evaluation data", details={field: ["A valid integer is required."]})
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise InvalidInput(
            "Invalid evaluation data", details={field: ["A valid integer is required."]}
        ) from exc
    if number != number.to_integral_value():
        raise InvalidInput("Invalid evaluation data", details={field: ["A valid integer is required."]})
    if not MIN_RATING <= number <= MAX_RATING:
        raise InvalidInput("Invalid evaluation data", details={field: ["Rating must be between 0 and 10"]})
    return int(number)


def parse_salary(value: object) -> str | None:
    """A non-negative decimal with at most 2 places and 10 digits, returned as ``"50000.00"``."""
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise InvalidInput(
            "Invalid evaluation data", details={"expected_salary": ["A valid number is required."]}
        ) from exc
    if not amount.is_finite() or amount < 0:
        raise InvalidInput(
            "Invalid evaluation data", details={"expected_salary": ["Enter a non-negative amount."]}
        )
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise InvalidInput(
            "Invalid evaluation data",
            details={"expected_salary": ["Ensure that there are no more than 2 decimal places."]},
        )
    if amount >= Decimal(10) ** 10:
        raise InvalidInput(
            "Invalid evaluation data",
            details={"expected_salary": ["Ensure that there are no more than 12 digits in total."]},
        )
    return f"{amount:.2f}"


def cv_status_for(decision: Decision) -> CvStatus:
    """The CV status that goes with an interview decision (a pending interview keeps the CV ongoing)."""
    return {Decision.selected: CvStatus.selected, Decision.rejected: CvStatus.rejected}.get(
        decision, CvStatus.ongoing
    )


def start_refusal(name: str, status: CvStatus) -> str | None:
    """Why a CV in ``status`` cannot start an interview, or None when it can."""
    if status == CvStatus.ongoing:
        return f"Interview for {name} is already in progress"
    if status != CvStatus.pending:
        return f"Candidate status is '{status}'. Cannot start new interview."
    return None
