"""The example conversations in protocol/examples replay exactly against a fresh session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from protocol.messages import ClientMessage, MonitorEvent, ServerMessage
from server.session.replay import load, record, replay

EXAMPLES = Path(__file__).resolve().parents[2] / "protocol" / "examples"
FILES = sorted(EXAMPLES.glob("*.jsonl"))


def test_the_required_examples_exist() -> None:
    """There is a happy path, a resume conversation and an error case."""
    assert {"happy-path.jsonl", "resume.jsonl", "errors.jsonl"} <= {path.name for path in FILES}


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_an_example_replays_exactly(path: Path) -> None:
    """Feeding the example's client frames and shell inputs yields exactly its messages and effects."""
    assert replay(load(path)) == []


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_an_example_is_valid_protocol(path: Path) -> None:
    """Every client frame, server message and published event in an example validates against the models."""
    client, server, monitor = (
        TypeAdapter(ClientMessage),
        TypeAdapter(ServerMessage),
        TypeAdapter(MonitorEvent),
    )
    lines = load(path)
    for line, following in zip(lines, [*lines[1:], {}], strict=True):
        refused = following.get("msg", {}).get("code") == 4000  # an example of a malformed frame
        if line["dir"] == "in" and "msg" in line and not refused:
            client.validate_json(json.dumps(line["msg"]))
        elif line["dir"] == "out":
            server.validate_json(json.dumps(line["msg"]))
        elif line.get("effect") == "publish":
            monitor.validate_json(json.dumps(line["event"]))


def test_the_happy_path_ends_with_the_report() -> None:
    """The happy path reaches interview.completed and a normal close."""
    lines = load(EXAMPLES / "happy-path.jsonl")
    types = [line["msg"]["type"] for line in lines if line["dir"] == "out"]
    assert types[0] == "welcome" and "interview.completed" in types
    assert {"effect": "close", "connection": 1, "code": 1000, "reason": "interview completed"} in [
        {key: value for key, value in line.items() if key != "dir"}
        for line in lines
        if line["dir"] == "effect"
    ]


def test_a_changed_expectation_is_caught() -> None:
    """Replay reports a difference when one expected line is altered, so the replay test can fail."""
    lines = load(EXAMPLES / "happy-path.jsonl")
    index = next(i for i, line in enumerate(lines) if line["dir"] == "out")
    lines[index] = {**lines[index], "conn": 99}
    assert replay(lines) and len(record(lines)) == len(lines)
