"""Shared query parameters and the ``{total, skip, limit, data}`` list envelope."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

T = TypeVar("T")

Skip = Annotated[int, Query(ge=0, le=1_000_000, description="Records to skip")]


def limit_param(default: int = 20, maximum: int = 100) -> Any:
    """The ``limit`` query parameter (give the same default with ``=`` at the use site)."""
    return Query(ge=1, le=maximum, description=f"Records to return (default {default}, max {maximum})")


class Page(BaseModel, Generic[T]):
    total: int
    skip: int
    limit: int
    data: Sequence[T]
