"""Seed 003 AI agents over HTTP with the offline engine: the catalog, whole answers and the SSE stream."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.support import ORDER, URL_SHORTENER, Headers, api_per_module, collapse, ok, stream
from tests.support import Api

api = api_per_module("agents")


@pytest.fixture(scope="module")
def me(api: Api) -> Headers:
    return api.register()


def test_available_agents(api: Api, me: Headers) -> None:
    """Six agents are listed with their specializations, including the documented ones."""
    body = ok(api.client.get("/api/agents/available", headers=me))
    assert body["total_agents"] == 6 == len(body["agents"])
    ids = [agent["id"] for agent in body["agents"]]
    assert {"product_manager", "system_design", "technical", "behavioral", "data_ml"} <= set(ids)
    assert len(set(ids)) == 6
    for agent in body["agents"]:
        assert set(agent) == {"id", "name", "specializations", "best_for"}
        assert agent["name"] and agent["specializations"] and agent["best_for"]
    design = next(agent for agent in body["agents"] if agent["id"] == "system_design")
    assert design["specializations"] == ["Distributed Systems", "Scalability", "Architecture"]
    assert api.client.get("/api/agents/available").status_code == 401


def test_whole_answer(api: Api, me: Headers) -> None:
    """The plain answer has the documented shape: routing, a structured answer, 3 follow-ups, statistics."""
    body = ok(api.client.post("/api/agents/answer", headers=me, json=URL_SHORTENER))
    assert set(body) == {"success", "timestamp", "question", "routing", "answer", "metadata",
                         "follow_up_questions", "statistics"}  # fmt: skip
    assert body["success"] is True and body["question"] == URL_SHORTENER["question"]
    assert body["routing"]["selected_agent"] == "system_design" and body["routing"]["reasoning"]
    assert 0.6 < body["routing"]["confidence"] <= 1
    answer = body["answer"]
    for heading in ("Approach", "Key concepts", "pitfalls", "Tips"):
        assert heading in answer
    assert "base62" in answer and "senior level" in answer  # tailored to the question and the context
    assert body["metadata"]["provider"] == "offline" and body["metadata"]["agent"] == "system_design"
    assert len(body["follow_up_questions"]) == 3 and all(q.endswith("?") for q in body["follow_up_questions"])
    assert body["statistics"] == {"word_count": len(answer.split()), "character_count": len(answer)}


def test_routing_falls_back_to_technical(api: Api, me: Headers) -> None:
    """A question with no specialist signal goes to the technical agent with confidence 0.6."""
    body = ok(
        api.client.post("/api/agents/answer", headers=me, json={"question": "What is your favourite colour?"})
    )
    assert body["routing"]["selected_agent"] == "technical" and body["routing"]["confidence"] == 0.6
    chosen = ok(
        api.client.post("/api/agents/answer", headers=me, json={**URL_SHORTENER, "agent": "career_coach"})
    )
    assert chosen["routing"]["selected_agent"] == "career_coach" and chosen["routing"]["confidence"] == 1.0


def test_stream_event_order(api: Api, me: Headers) -> None:
    """The stream is data-only SSE events in the documented order; the chunks make the full answer."""
    events = stream(api, me, URL_SHORTENER)
    assert all(set(e) == {"event_type", "timestamp", "data"} for e in events)
    assert collapse([e["event_type"] for e in events]) == ORDER
    start, routing, processing = (e["data"] for e in events[:3])
    assert start == {"message": "Processing question...", "question": URL_SHORTENER["question"]}
    assert routing["selected_agent"] == "system_design" and set(routing) == {
        "selected_agent",
        "reasoning",
        "confidence",
    }
    assert processing == {"message": "Processing with system_design agent...", "agent": "system_design"}
    chunks = [e["data"] for e in events if e["event_type"] == "content"]
    assert len(chunks) > 3 and all(not c["is_final"] for c in chunks[:-1]) and chunks[-1]["is_final"]
    done = next(e["data"] for e in events if e["event_type"] == "answer_complete")
    assert "".join(c["chunk"] for c in chunks) == done["full_answer"]
    assert done["word_count"] == len(done["full_answer"].split()) and done["character_count"] == len(
        done["full_answer"]
    )
    follow_ups = next(e["data"] for e in events if e["event_type"] == "follow_ups")
    assert len(follow_ups["questions"]) == 3
    assert events[-1]["data"] == {
        "message": "Processing complete",
        "agent_used": "system_design",
        "success": True,
    }


def test_history_forms(api: Api, me: Headers) -> None:
    """History items may be strings, {role, content} turns or {question, answer} pairs."""
    history = [
        "I am preparing for a data science role.",
        {"role": "assistant", "content": "Great, let us practise."},
        {"question": "What is overfitting?", "answer": "When a model memorises the training data."},
    ]
    body = {"question": "How would you detect it?", "conversation_history": history}
    answered = ok(api.client.post("/api/agents/answer", headers=me, json=body))
    assert answered["routing"]["selected_agent"] == "data_ml"  # the last turn gives the topic


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"question": "Why?"},
        {"question": "    Why?    "},
        {"question": "x" * 2001},
        {"question": "How would you design a cache?", "context": "c" * 1001},
        {"question": "How would you design a cache?", "conversation_history": ["turn"] * 21},
        {"question": "How would you design a cache?", "conversation_history": ["x" * 4001]},
        {
            "question": "How would you design a cache?",
            "conversation_history": [{"role": "system", "content": "hi"}],
        },
        {"question": "How would you design a cache?", "conversation_history": [{}]},
        {"question": "How would you design a cache?", "agent": "astrologer"},
    ],
)
def test_invalid_questions_are_422(api: Api, me: Headers, body: dict[str, Any]) -> None:
    """Questions outside 5–2000 characters, long context, oversized or malformed history are 422s."""
    for path in ("/api/agents/answer", "/api/agents/answer-stream"):
        response = api.client.post(path, headers=me, json=body)
        assert response.status_code == 422, (path, response.text)
        assert "detail" in response.json()


def test_agents_need_a_token(api: Api) -> None:
    """The answer routes answer 401 without a bearer token."""
    for path in ("/api/agents/answer", "/api/agents/answer-stream"):
        assert api.client.post(path, json=URL_SHORTENER).status_code == 401
