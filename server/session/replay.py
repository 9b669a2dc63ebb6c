"""Example conversations (``protocol/examples/*.jsonl``): play their inputs into a session, check its outputs.

Each line is a JSON object whose ``dir`` says what it is:

* ``setup``: ``{"session": {session_id, interview_id, report_url, questions, config?}, "t"}``, first line.
* ``in``: a text frame from the client on connection ``conn`` (``msg``, or ``raw`` text); a ``hello`` on a
  connection not joined yet joins it (its ``conn`` must be the id the session gives it).
* ``input``: a shell input, ``{"call": method name, "args": {...}}`` (a ``question`` arg is a question).
* ``restore``: the server restarts: the snapshot, through JSON, is restored into a new session.
* ``out``: a message the session queued, ``{"conn", "msg"}``; ``effect``: an effect, as ``as_dict()``.
* ``note``: a comment for the reader.

``t`` (optional on ``in``, ``input`` and ``restore``) sets the clock first. The ``out`` and ``effect`` lines
that follow a driving line are exactly what the session queued in response (messages first, then effects).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from protocol.messages import Hello, parse_client_message
from server.session.machine import InterviewSession
from server.session.model import Question, SessionConfig

__all__ = ["INPUTS", "Conversation", "ManualClock", "load", "record", "replay"]

Line = dict[str, Any]

INPUTS = frozenset(
    {
        "disconnected",
        "media_connected",
        "media_disconnected",
        "rtc_answer",
        "rtc_candidate",
        "rtc_failed",
        "audio_started",
        "audio_finished",
        "audio_failed",
        "speech_started",
        "speech_stopped",
        "transcript_partial",
        "transcript_final",
        "transcript_failed",
        "answer_saved",
        "save_failed",
        "follow_up_ready",
        "add_question",
        "terminate",
        "tick",
    }
)
"""The session methods an ``input`` line may call."""

_DRIVERS = frozenset({"setup", "in", "input", "restore"})
_OUTPUTS = frozenset({"out", "effect"})


class ManualClock:
    """A clock that only moves when told to (for tests and example conversations)."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


class Conversation:
    """Drives one session from example lines and reports what it queued."""

    def __init__(self) -> None:
        self.clock = ManualClock()
        self._session: InterviewSession | None = None
        self._joined: set[int] = set()

    @property
    def session(self) -> InterviewSession:
        if self._session is None:
            raise ValueError("the conversation has no setup line yet")
        return self._session

    def feed(self, line: Line) -> list[Line]:
        """Perform one driving line; return the ``out`` and ``effect`` lines it produced."""
        if "t" in line:
            self.clock.now = float(line["t"])
        kind = line["dir"]
        if kind == "setup":
            self._setup(line["session"])
        elif kind == "in":
            self._client(int(line["conn"]), line["raw"] if "raw" in line else json.dumps(line["msg"]))
        elif kind == "input":
            self._input(line["call"], dict(line.get("args", {})))
        elif kind == "restore":
            snapshot = json.loads(json.dumps(self.session.snapshot()))
            self._session, self._joined = InterviewSession.restore(snapshot, clock=self.clock), set()
        else:
            raise ValueError(f"not a driving line: {kind!r}")
        return self._drain()

    def _setup(self, spec: dict[str, Any]) -> None:
        self._session = InterviewSession(
            session_id=spec["session_id"],
            interview_id=spec["interview_id"],
            report_url=spec["report_url"],
            questions=[Question.model_validate(question) for question in spec["questions"]],
            config=SessionConfig.model_validate(spec.get("config", {})),
            clock=self.clock,
        )

    def _client(self, connection: int, text: str) -> None:
        if connection in self._joined:
            self.session.receive_text(connection, text)
            return
        hello = parse_client_message(text)
        if not isinstance(hello, Hello):
            raise ValueError("a connection's first line must be a hello")
        joined = self.session.join(hello)
        if joined != connection:
            raise ValueError(f"the session gave connection {joined}, the line says {connection}")
        self._joined.add(connection)

    def _input(self, call: str, args: dict[str, Any]) -> None:
        if call not in INPUTS:
            raise ValueError(f"not an input: {call!r}")
        if isinstance(args.get("question"), dict):
            args["question"] = Question.model_validate(args["question"])
        getattr(self.session, call)(**args)

    def _drain(self) -> list[Line]:
        session = self.session
        out = [
            {"dir": "out", "conn": o.connection, "msg": json.loads(o.text)} for o in session.drain_messages()
        ]
        return out + [{"dir": "effect", **effect.as_dict()} for effect in session.drain_effects()]


def load(path: Path) -> list[Line]:
    """The lines of an example file (blank lines skipped)."""
    return [json.loads(text) for text in path.read_text(encoding="utf-8").splitlines() if text.strip()]


def record(lines: Iterable[Line]) -> list[Line]:
    """The conversation with its ``out``/``effect`` lines regenerated from the driving and note lines."""
    conversation, result = Conversation(), []
    for line in lines:
        if line["dir"] in _OUTPUTS:
            continue
        result.append(line)
        if line["dir"] in _DRIVERS:
            result.extend(conversation.feed(line))
    return result


def replay(lines: list[Line]) -> list[str]:
    """Play the driving lines and compare every output line; return the differences (none: it matches)."""
    actual = record(lines)
    problems = [
        f"line {number}: expected {json.dumps(want)}, got {json.dumps(got)}"
        for number, (want, got) in enumerate(zip(lines, actual, strict=False), start=1)
        if want != got
    ]
    if len(lines) != len(actual):
        problems.append(f"expected {len(lines)} lines, the session produced {len(actual)}")
    return problems[:5]
