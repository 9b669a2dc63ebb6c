"""The import graph runs one way: api/live/jobs → domain → store; session → protocol; no new cycles.

Built with grimp from the source (no module is imported). ``server.domain.errors``, the one exception
root that every layer raises, counts as its own leaf.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

import grimp

ERRORS = "server.domain.errors"
# Packages still tied into one import cycle (issue 16: the composition root and the middleware move end it).
# A cycle that reaches any other package, or a package joining it, fails the test; this set may only shrink.
KNOWN_TANGLE = frozenset(
    {
        "server.ai",
        "server.api",
        "server.jobs",
        "server.live",
        "server.logs",
        "server.practice",
        "server.services",
        "server.speech",
        "server.workflows",
    }
)


@cache
def edges() -> dict[str, frozenset[str]]:
    """Package-level imports (``server.X`` or a top-level package) → the packages they import."""
    graph = grimp.build_graph("server", "protocol")
    found: dict[str, set[str]] = {}
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            source, target = package(module), package(imported)
            if source != target:
                found.setdefault(source, set()).add(target)
    return {source: frozenset(targets) for source, targets in found.items()}


def package(module: str) -> str:
    if module == ERRORS or module.startswith(ERRORS + "."):
        return ERRORS
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "server" else parts[0]


def reachable(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for target in edges().get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def cycles() -> Iterator[frozenset[str]]:
    """Every strongly connected set of two or more packages."""
    nodes = set(edges()) | {t for targets in edges().values() for t in targets}
    done: set[str] = set()
    for node in sorted(nodes):
        if node in done:
            continue
        component = {node} | {other for other in reachable(node) if node in reachable(other)}
        done |= component
        if len(component) > 1:
            yield frozenset(component)


def test_the_session_core_imports_only_the_protocol() -> None:
    """server.session is sans-I/O: of the first-party packages it imports only protocol."""
    assert edges().get("server.session", frozenset()) <= {"protocol"}
    assert not {t for t in edges().get("protocol", frozenset()) if t.startswith("server")}


def test_domain_and_store_sit_below_the_shells() -> None:
    """Neither the domain nor the store reaches up into the REST routes, the live shells, the jobs or the
    composition root, directly or through anything they import."""
    shells = {"server.api", "server.live", "server.jobs", "server.services", "server.app", "server.workflows"}
    for layer in ("server.domain", "server.store"):
        assert not reachable(layer) & shells, f"{layer} reaches {sorted(reachable(layer) & shells)}"
    assert "server.domain" not in reachable("server.store"), "store imports only the error root of domain"


def test_no_new_import_cycle() -> None:
    """The only package cycle is the known one, and it does not grow."""
    for cycle in cycles():
        assert cycle <= KNOWN_TANGLE, f"a new import cycle: {sorted(cycle)}"
