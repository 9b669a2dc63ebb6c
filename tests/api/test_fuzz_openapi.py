"""REST fuzzing from the OpenAPI document (schemathesis) against a real server with an admin token:
valid and invalid requests to every operation, with generated ids and with real ones, never get a 5xx
and never a stack trace or an internal exception name in the body."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.api.hostile import LEAKS, World, build_world, sqlite_api
from tests.support import Api

EXAMPLES = int(os.environ.get("VIVA_FUZZ_EXAMPLES", "6"))
"""Examples per operation, per mode (valid data, invalid data, real ids); raise it for a longer hunt."""


@pytest.fixture(scope="module")
def world_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, World]]:
    tmp = tmp_path_factory.mktemp("fuzz")
    # throttling would turn later login examples into 429s, which hide nothing but waste examples
    with sqlite_api(tmp, login_attempts_per_address=10_000, login_attempts_per_account=10_000) as api:
        yield api, build_world(api)


def strategies(operation: Any, world: World) -> list[tuple[str, Any]]:
    """Generated requests: valid, invalid, and valid with user A's real ids in the path."""
    modes = [
        ("valid", operation.as_strategy(generation_mode=GenerationMode.POSITIVE)),
        ("invalid", operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)),
    ]
    names = [parameter.name for parameter in operation.path_parameters]
    if names:
        real = {name: world.param(operation.path, name) for name in names}
        modes.append(("real ids", operation.as_strategy(path_parameters=real)))
    return modes


def fuzz(api: Api, strategy: Any, headers: dict[str, str]) -> str | None:
    """Run up to EXAMPLES requests; the first bad response, described, or None."""
    found: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        if found:
            return
        case = data.draw(strategy)
        response = case.call(base_url=api.server.base_url, headers=headers, timeout=30)
        leak = LEAKS.search(response.text)
        if response.status_code >= 500 or leak:
            found.append(f"{response.status_code} {leak and leak.group()!r}: {case.as_curl_command()}")

    try:
        run()
    except Unsatisfiable:  # e.g. invalid data for an operation that takes no input: nothing to send
        pass
    return found[0] if found else None


def test_no_operation_fails_or_leaks(world_api: tuple[Api, World]) -> None:
    """Every operation, fuzzed with valid and invalid data, answers below 500 with no internals."""
    api, world = world_api
    schema = schemathesis.openapi.from_dict(api.client.get("/openapi.json").json())
    admin = api.admin()
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode, strategy in strategies(operation, world):
            problem = fuzz(api, strategy, admin)
            if problem:
                failures.append(f"{operation.label} ({mode}): {problem}")
    assert operations > 80
    assert failures == [], "\n".join(failures)
