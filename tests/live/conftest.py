"""Fixtures of the live tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import REDIS_URL, create_pg_database, drop_pg_database, redis_reachable, unavailable


@pytest.fixture
def shared_database(pg_template: str | None) -> Iterator[str]:
    """A PostgreSQL database cloned from the template, for several server instances that share it and Redis
    (skips, or fails under ``VIVA_REQUIRE_SERVICES``, without PostgreSQL or Redis)."""
    if pg_template is None:
        unavailable("PostgreSQL", "127.0.0.1:5432")
    if not redis_reachable():
        unavailable("Redis", REDIS_URL)
    url = create_pg_database(template=pg_template)
    try:
        yield url
    finally:
        drop_pg_database(url)
