"""The pages in a real browser: HR adds a candidate and schedules an interview in /manage/, the candidate
takes it by voice in /room/{id} (fake camera, a Piper-spoken WAV as the microphone), HR watches it live in
/monitor/{id}, and the report and the evaluation show in /manage/."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.support import screenshot
from tests.support import Api, make_pdf

pytestmark = pytest.mark.e2e

RESUME = "Cara Candidate Backend Engineer Python PostgreSQL Docker REST APIs caching integration tests"
FIRST_QUESTION = "Tell me about a REST API you designed and how you made it fast."


def wait_for(driver: Any, css: str, timeout: float = 20, visible: bool = True) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    condition = ec.visibility_of_element_located if visible else ec.presence_of_element_located
    try:
        return WebDriverWait(driver, timeout).until(condition((By.CSS_SELECTOR, css)))
    except Exception as exc:
        raise AssertionError(f"{css} did not show within {timeout} s; console: {console(driver)}") from exc


def wait_until(driver: Any, predicate: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; console: {console(driver)}")


def console(driver: Any) -> list[str]:
    try:
        return [entry["message"][:300] for entry in driver.get_log("browser")][-15:]
    except Exception:  # the log is best-effort diagnostics
        return []


def css(driver: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def css_all(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def sign_in(driver: Any, email: str, password: str) -> None:
    wait_for(driver, "#signin-form input[name=email]").send_keys(email)
    css(driver, "#signin-form input[name=password]").send_keys(password)
    css(driver, "#signin-form button[type=submit]").click()


def hr_adds_and_schedules(hr: Any, base: str, email: str, resume: Path, hr_user: dict[str, Any]) -> str:
    """In /manage/: add a candidate with a resume, schedule with AI questions, edit them down to two."""
    hr.get(f"{base}/manage/")
    sign_in(hr, hr_user["email"], "password-123")
    wait_for(hr, "#add-candidate-toggle").click()
    css(hr, "#c-name").send_keys("Cara Candidate")
    css(hr, "#c-email").send_keys(email)
    css(hr, "#c-phone").send_keys("+91 9876543210")
    css(hr, "#c-place").send_keys("Kochi")
    css(hr, "#c-resume").send_keys(str(resume))
    css(hr, "#c-submit").click()
    row = wait_for(hr, "#candidate-rows tr[data-candidate]")
    assert "Cara Candidate" in row.text and "cv.pdf" in row.text
    css(hr, "#c-search").send_keys("nobody-matches-this")
    wait_until(hr, lambda: not css_all(hr, "#candidate-rows tr[data-candidate]"), "the search filter")
    css(hr, "#c-search").clear()
    css(hr, "#c-status").send_keys("Pending")
    wait_for(hr, "#candidate-rows tr[data-candidate]")
    screenshot(hr, "01-manage-candidates")

    css(hr, "#candidate-rows tr[data-candidate] a.button").click()
    wait_for(hr, "#s-title").send_keys("Backend Engineer")
    css(hr, "#s-stack").send_keys("Python, PostgreSQL, Docker")
    css(hr, "#s-generate").click()
    wait_for(hr, "#question-list li", timeout=30)
    generated = css_all(hr, "#question-list li")
    assert len(generated) == 5, "the AI planned five questions, shown for editing"
    for item in generated[2:]:
        item.find_element("css selector", ".q-remove").click()
    text = css(hr, "#question-list li .q-text")
    text.clear()
    text.send_keys(FIRST_QUESTION)
    css(hr, "#q-save").click()
    wait_until(hr, lambda: "Saved 2 questions" in css(hr, "#q-alert").text, "the questions to be saved")
    screenshot(hr, "02-manage-schedule")
    link = css(hr, "#room-link").text
    return link.rsplit("/", 1)[-1]


def candidate_joins(candidate: Any, base: str, interview_id: str, email: str) -> None:
    candidate.get(f"{base}/room/{interview_id}")
    sign_in(candidate, email, "password-123")
    wait_for(candidate, "#check-continue:enabled", timeout=20)
    wait_until(
        candidate,
        lambda: int(css(candidate, "#check-meter").get_attribute("aria-valuenow") or 0) > 0,
        "the microphone meter to move",
    )
    screenshot(candidate, "03-room-device-check")
    css(candidate, "#check-continue").click()
    wait_for(candidate, "#consent-box").click()
    screenshot(candidate, "04-room-consent-phone", width=390)
    screenshot(candidate, "04-room-consent")
    css(candidate, "#start").click()


def hr_watches_live(hr: Any) -> None:
    """On /monitor/: the candidate's video connects, the live phase shows, and a private note is saved."""
    wait_for(hr, "#video[data-state=connected]", timeout=30)
    assert css(hr, "#live-text").text == "Live"
    css(hr, "#note").send_keys("Clear on indexing.")
    css(hr, "#note-form button[type=submit]").click()
    wait_until(hr, lambda: "Note saved" in css(hr, "#action-alert").text, "the note's ack")
    wait_for(hr, "#transcript .turn.note")
    screenshot(hr, "07-monitor-live")


def candidate_reloads_and_resumes(candidate: Any) -> None:
    """A reload mid-interview keeps the sign-in (sessionStorage) and rejoins where it stopped; the
    resumed question is answered with the "Done answering" button."""
    wait_until(candidate, lambda: "Question 2" in css(candidate, "#progress-text").text, "question 2", 60)
    candidate.refresh()
    wait_for(candidate, "#check-continue:enabled", timeout=20).click()
    wait_for(candidate, "#consent-box").click()
    css(candidate, "#start").click()
    wait_until(
        candidate, lambda: "Question 2" in css(candidate, "#progress-text").text, "the resumed question", 30
    )
    wait_for(candidate, "#done:enabled", timeout=40)
    wait_until(candidate, lambda: css_all(candidate, "#captions .partial, #captions .final"), "captions", 30)
    if css(candidate, "#done").is_enabled():  # unless the candidate's pause already ended the answer
        css(candidate, "#done").click()


def test_interview_in_the_browser(
    e2e_api: Api, browser: Callable[..., Any], answer_wav: Path, tmp_path: Path
) -> None:
    """HR schedules in /manage/, the candidate answers every question by voice in /room/, HR sees the live
    transcript and scores in /monitor/, and the report and evaluation show in /manage/."""
    api, base = e2e_api, e2e_api.server.base_url
    hr_user = api.make_user("hr", name="Hana Recruiter")
    email = f"cara-{uuid.uuid4().hex[:8]}@test.example"
    resume = tmp_path / "cv.pdf"
    resume.write_bytes(make_pdf(RESUME))
    started = time.monotonic()

    hr = browser()
    interview_id = hr_adds_and_schedules(hr, base, email, resume, hr_user)
    registered = api.client.post(
        "/auth/register", json={"name": "Cara Candidate", "email": email, "password": "password-123"}
    )
    assert registered.status_code == 200, registered.text

    hr.get(f"{base}/manage/#interviews")
    wait_for(hr, f"#interview-rows tr[data-interview='{interview_id}']")
    screenshot(hr, "05-manage-interviews")
    css(hr, f"#interview-rows tr[data-interview='{interview_id}'] a[href^='/monitor/']").click()
    wait_for(hr, "#step-monitor")
    wait_until(hr, lambda: css(hr, "#monitor-title").text == "Cara Candidate", "the monitor's welcome")

    candidate = browser(f"--use-file-for-fake-audio-capture={answer_wav}")
    candidate_joins(candidate, base, interview_id, email)
    wait_until(
        candidate, lambda: FIRST_QUESTION in css(candidate, "#question").text, "the first question", 30
    )
    wait_until(
        candidate, lambda: css(candidate, "#state").get_attribute("data-phase") == "listening", "listening"
    )
    assert candidate.find_element("css selector", "body").get_attribute("data-audio") == "webrtc"
    wait_until(
        candidate, lambda: css_all(candidate, "#captions .partial, #captions .final"), "live captions", 40
    )
    screenshot(candidate, "06-room-interview")
    hr_watches_live(hr)
    candidate_reloads_and_resumes(candidate)
    wait_until(candidate, lambda: css_all(candidate, "#step-finish:not([hidden])"), "the finish screen", 150)
    screenshot(candidate, "08-room-finished")
    assert "complete" in css(candidate, "#finish-text").text

    wait_until(hr, lambda: len(css_all(hr, "#transcript .turn.candidate:not(.partial)")) >= 2, "answers", 30)
    assert len(css_all(hr, "#transcript .turn.note")) == 1, "HR's note is in the transcript"
    system_lines = [t.text for t in css_all(hr, "#transcript .turn.system")]
    assert "The candidate reconnected." in system_lines, system_lines
    interviewer_turns = [t.text for t in css_all(hr, "#transcript .turn.interviewer")]
    assert FIRST_QUESTION in interviewer_turns[0]
    wait_until(hr, lambda: css_all(hr, "#report [data-testid=report-chart] svg"), "the report chart", 60)
    assert len(css_all(hr, "#scores tr[data-question]")) >= 2, "per-answer scores landed"
    screenshot(hr, "09-monitor-report")

    hr.get(f"{base}/manage/#interview/{interview_id}")
    wait_for(hr, "#report-body [data-testid=report-chart] svg")
    for name, value in (("appearance", 8), ("knowledge", 9), ("confidence", 7), ("attitude", 8)):
        css(hr, f"#e-{name}").send_keys(str(value))
    css(hr, "#e-communication").send_keys("8")
    css(hr, "#e-remark").send_keys("Clear and structured <b>answers</b>.")
    css(hr, "#e-submit").click()
    wait_until(hr, lambda: "Average rating 8" in css(hr, "#e-average").text, "the evaluation's average")
    screenshot(hr, "10-manage-report-evaluation")
    for driver in (hr, candidate):
        refused = [m for m in console(driver) if "Content Security Policy" in m]
        assert not refused, refused
    assert "token" not in candidate.current_url and "token" not in hr.current_url
    report = api.client.get(f"/interviews/{interview_id}/report", headers=_bearer(api, hr_user)).json()
    assert report["decision"] in ("HIRE", "BORDERLINE", "REJECT")
    assert len(report["questions"]) >= 2
    assert time.monotonic() - started < 300, "the e2e suite must stay quick"


def _bearer(api: Api, user: dict[str, Any]) -> dict[str, str]:
    return dict(user["headers"])
