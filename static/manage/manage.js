// Management pages for HR: candidates (add with resume, list, filter), scheduling with editable AI
// questions, interviews with status, the AI report and the seed-004 evaluation. REST only.
import { api, ApiError, auth } from "../common/api.js";
import { $, $$, fill, formatDate, h, say, showOnly } from "../common/dom.js";
import { renderReport } from "../common/report.js";
import { signedIn } from "../common/signin.js";

const CATEGORIES = [
  ["intro", "Intro"], ["technical", "Technical"], ["gap", "Gap"], ["behavioral", "Behavioral"],
  ["system_design", "System design"], ["coding", "Coding"], ["follow_up", "Follow-up"],
];
const views = $$("section.view");
const flash = $("#flash");
const cache = { roles: [], candidates: new Map() };

function problem(error) {
  return error instanceof ApiError ? error.summary : "Something went wrong. Try again.";
}

function idPart(value) {
  return /^[A-Za-z0-9_-]{1,64}$/.test(value || "") ? value : null;
}

// ------------------------------------------------------------------------------------------ routing

async function route() {
  say(flash, "");
  const [view, rawId] = location.hash.replace(/^#/, "").split("/");
  const id = idPart(rawId);
  for (const link of $$("#tabs a")) {
    if (link.dataset.view === (view === "interview" || view === "questions" ? "interviews" : view || "candidates")) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (view === "interviews") return showInterviews();
  if (view === "schedule" && id) return showSchedule(id);
  if (view === "questions" && id) return showQuestions(id);
  if (view === "interview" && id) return showInterview(id);
  return showCandidates();
}

// ------------------------------------------------------------------------------------------ candidates

async function showCandidates() {
  showOnly(views, $("#view-candidates"));
  await loadCandidates();
}

async function loadCandidates() {
  const params = new URLSearchParams({ limit: "100" });
  const search = $("#c-search").value.trim();
  const status = $("#c-status").value;
  if (search) params.set("search", search);
  if (status) params.set("status", status);
  const body = $("#candidate-rows");
  try {
    const page = await api(`/api/candidates?${params}`);
    for (const c of page.data) cache.candidates.set(c.id, c);
    fill(body, page.data.length ? page.data.map(candidateRow) : h("tr", {}, h("td", { colSpan: 7, class: "empty", text: "No candidates match." })));
    $("#candidate-count").textContent = `${page.total} candidate${page.total === 1 ? "" : "s"}`;
  } catch (error) {
    fill(body, h("tr", {}, h("td", { colSpan: 7, class: "empty", text: problem(error) })));
  }
}

function candidateRow(c) {
  const decided = ["selected", "rejected"].includes(c.interview_status);
  return h("tr", { data: { candidate: c.id } },
    h("td", {}, h("strong", { text: c.name }), c.phone_number ? h("div", { class: "small muted", text: c.phone_number }) : null),
    h("td", { text: c.email }),
    h("td", { text: c.job_title_name || "—" }),
    h("td", {}, h("span", { class: `badge ${c.interview_status}`, text: c.interview_status })),
    h("td", {}, c.resume ? h("span", { class: "small", text: `${c.resume.filename || "resume"} · ${c.resume.text_chars} chars` }) : h("span", { class: "muted", text: "—" })),
    h("td", {}, h("span", { class: `badge ${c.is_registered ? "ok" : ""}`, text: c.is_registered ? "registered" : "no account" })),
    h("td", { class: "nowrap" }, decided ? null : h("a", { class: "button small", href: `#schedule/${c.id}`, text: "Schedule", attrs: { "aria-label": `Schedule an interview for ${c.name}` } })),
  );
}

async function loadRoles() {
  try {
    const page = await api("/api/roles?limit=100");
    cache.roles = page.data;
  } catch {
    cache.roles = [];
  }
  fill($("#c-role"), h("option", { value: "", text: "—" }), cache.roles.map((r) => h("option", { value: String(r.role_id), text: r.role_name })));
}

function toggleAddForm(open) {
  const form = $("#add-candidate");
  form.hidden = !open;
  $("#add-candidate-toggle").setAttribute("aria-expanded", String(open));
  if (open) $("#c-name").focus();
}

async function addCandidate(event) {
  event.preventDefault();
  const form = event.target;
  const alert = $(".alert", form);
  const data = new FormData();
  for (const name of ["name", "email", "phone_number", "place", "district", "job_title"]) {
    const value = form.elements[name].value.trim();
    if (value) data.append(name, value);
  }
  const file = form.elements.resume.files[0];
  if (file) data.append("resume", file, file.name);
  $("#c-submit").disabled = true;
  try {
    const created = await api("/api/candidates", { method: "POST", form: data });
    form.reset();
    toggleAddForm(false);
    say(flash, `${created.name} was added to the pool.`, "ok");
    await loadCandidates();
  } catch (error) {
    say(alert, problem(error), "error");
  } finally {
    $("#c-submit").disabled = false;
  }
}

// ------------------------------------------------------------------------------------------ schedule

async function candidate(id) {
  if (!cache.candidates.has(id)) cache.candidates.set(id, await api(`/api/candidates/${encodeURIComponent(id)}`));
  return cache.candidates.get(id);
}

async function showSchedule(candidateId) {
  showOnly(views, $("#view-schedule"));
  $("#schedule-form").hidden = false;
  $("#questions-card").hidden = true;
  say($("#schedule-alert"), "");
  const form = $("#schedule-form");
  form.reset();
  form.dataset.candidate = candidateId;
  const when = new Date(Date.now() + 10 * 60000);
  when.setMinutes(when.getMinutes() - when.getTimezoneOffset());
  $("#s-when").value = when.toISOString().slice(0, 16);
  try {
    const c = await candidate(candidateId);
    $("#schedule-title").textContent = `Schedule an interview for ${c.name}`;
    $("#schedule-for").textContent = `${c.email}${c.resume ? " · questions are planned from the resume and job description" : " · no resume on file"}`;
    if (c.job_title_name) $("#s-title").value = c.job_title_name;
  } catch (error) {
    say($("#schedule-alert"), problem(error), "error");
  }
  $("#s-title").focus();
}

async function schedule(event) {
  event.preventDefault();
  const form = event.target;
  const alert = $("#schedule-alert");
  const title = $("#s-title").value.trim();
  if (!title) return say(alert, "Enter a job title.", "error");
  const body = {
    candidate_id: form.dataset.candidate,
    job_title: title,
    job_description: $("#s-jd").value,
    tech_stack: $("#s-stack").value.split(",").map((s) => s.trim()).filter(Boolean),
    num_questions: Number($("#s-count").value) || 5,
  };
  const role = $("#s-role").value.trim();
  if (role) body.role = role;
  if ($("#s-when").value) body.scheduled_at = new Date($("#s-when").value).toISOString();
  $("#s-generate").disabled = true;
  say(alert, "Generating questions…", "info");
  try {
    const interview = await api("/api/v1/interview/schedule", { method: "POST", json: body });
    say(alert, "");
    form.hidden = true;
    history.replaceState(null, "", `#questions/${interview.id}`);
    renderQuestions(interview);
  } catch (error) {
    say(alert, problem(error), "error");
  } finally {
    $("#s-generate").disabled = false;
  }
  return undefined;
}

async function showQuestions(interviewId) {
  showOnly(views, $("#view-schedule"));
  $("#schedule-form").hidden = true;
  say($("#schedule-alert"), "");
  try {
    const interview = await api(`/api/v1/interview/${encodeURIComponent(interviewId)}`);
    const c = await candidate(interview.candidate_id).catch(() => null);
    $("#schedule-title").textContent = `Questions for ${c ? c.name : "the candidate"}`;
    $("#schedule-for").textContent = `${interview.job_title || ""} · ${formatDate(interview.scheduled_at)}`;
    renderQuestions(interview);
  } catch (error) {
    say($("#schedule-alert"), problem(error), "error");
  }
}

function renderQuestions(interview) {
  const card = $("#questions-card");
  card.hidden = false;
  card.dataset.interview = interview.id;
  const editable = ["pending_questions", "scheduled"].includes(interview.status);
  $("#q-status").textContent = interview.status.replaceAll("_", " ");
  $("#q-status").className = `badge ${interview.status}`;
  fill($("#question-list"), interview.questions.map((q) => questionItem(q, editable)));
  for (const button of [$("#q-add"), $("#q-save")]) button.hidden = !editable;
  $("#q-hint").textContent = editable ? "Edit, remove or add questions, then save. The candidate hears them in this order." : "The interview has started: its questions can no longer change.";
  showShare(interview);
  $("#question-list textarea")?.focus();
}

function questionItem(q = {}, editable = true) {
  const n = Math.random().toString(36).slice(2, 8);
  const category = (q.category || "technical").toLowerCase().replaceAll(" ", "_").replaceAll("-", "_");
  const item = h("li", { class: "question-item" },
    h("label", { class: "sr-only", attrs: { for: `q-text-${n}` }, text: "Question text" }),
    h("textarea", { id: `q-text-${n}`, class: "q-text", value: q.text || "", rows: 2, maxLength: 2000, disabled: !editable, attrs: { "aria-label": "Question text" } }),
    h("div", { class: "q-row" },
      h("div", { class: "field" }, h("label", { attrs: { for: `q-cat-${n}` }, text: "Category" }),
        h("select", { id: `q-cat-${n}`, class: "q-category", disabled: !editable }, CATEGORIES.map(([value, label]) => h("option", { value, text: label, selected: value === category })))),
      h("div", { class: "field" }, h("label", { attrs: { for: `q-min-${n}` }, text: "Minutes" }),
        h("input", { id: `q-min-${n}`, class: "q-minutes", type: "number", min: 1, max: 30, value: String(q.expected_duration_minutes || 3), disabled: !editable })),
      editable ? h("button", { type: "button", class: "ghost q-remove", text: "Remove", attrs: { "aria-label": "Remove this question" } }) : h("span")),
  );
  item.dataset.difficulty = (q.difficulty || "medium").toLowerCase();
  return item;
}

async function saveQuestions() {
  const card = $("#questions-card");
  const alert = $("#q-alert");
  const questions = $$("#question-list li").map((li) => ({
    text: $(".q-text", li).value.trim(),
    category: $(".q-category", li).value,
    difficulty: li.dataset.difficulty || "medium",
    expected_duration_minutes: Number($(".q-minutes", li).value) || 3,
  }));
  if (!questions.length) return say(alert, "Keep at least one question.", "error");
  if (questions.some((q) => q.text.length < 5)) return say(alert, "Each question needs at least 5 characters.", "error");
  $("#q-save").disabled = true;
  try {
    const interview = await api(`/api/v1/interview/${encodeURIComponent(card.dataset.interview)}/questions`, { method: "PUT", json: { questions } });
    renderQuestions(interview);
    say(alert, `Saved ${interview.questions.length} questions. The interview is scheduled.`, "ok");
  } catch (error) {
    say(alert, problem(error), "error");
  } finally {
    $("#q-save").disabled = false;
  }
  return undefined;
}

function showShare(interview) {
  $("#share").hidden = false;
  $("#room-link").textContent = `${location.origin}/room/${interview.id}`;
  $("#open-monitor").href = `/monitor/${interview.id}`;
}

// ------------------------------------------------------------------------------------------ interviews

async function showInterviews() {
  showOnly(views, $("#view-interviews"));
  const body = $("#interview-rows");
  const status = $("#i-status").value;
  try {
    const rows = await api(`/api/v1/interview/all${status ? `?status=${encodeURIComponent(status)}` : ""}`);
    await Promise.all([...new Set(rows.map((r) => r.candidate_id))].map((id) => candidate(id).catch(() => null)));
    fill(body, rows.length ? rows.map(interviewRow) : h("tr", {}, h("td", { colSpan: 6, class: "empty", text: "No interviews yet. Schedule one from the candidates list." })));
  } catch (error) {
    fill(body, h("tr", {}, h("td", { colSpan: 6, class: "empty", text: problem(error) })));
  }
}

function interviewRow(interview) {
  const c = cache.candidates.get(interview.candidate_id);
  const live = ["scheduled", "in_progress"].includes(interview.status);
  const editable = ["pending_questions", "scheduled"].includes(interview.status);
  return h("tr", { data: { interview: interview.id } },
    h("td", {}, h("strong", { text: c ? c.name : "Unknown candidate" }), c ? h("div", { class: "small muted", text: c.email }) : null),
    h("td", { text: interview.job_title || "—" }),
    h("td", { class: "nowrap", text: formatDate(interview.scheduled_at) }),
    h("td", { text: String(interview.questions.length) }),
    h("td", {}, h("span", { class: `badge ${interview.status}`, text: interview.status.replaceAll("_", " ") })),
    h("td", {}, h("div", { class: "actions" },
      live ? h("a", { class: "button small", href: `/monitor/${interview.id}`, text: "Monitor" }) : null,
      editable ? h("a", { class: "button small secondary", href: `#questions/${interview.id}`, text: "Questions" }) : null,
      h("a", { class: "button small secondary", href: `#interview/${interview.id}`, text: "Report & evaluation" }))),
  );
}

// ------------------------------------------------------------------------------------------ one interview

async function showInterview(interviewId) {
  showOnly(views, $("#view-interview"));
  const form = $("#evaluation-form");
  form.reset();
  form.dataset.interview = interviewId;
  say($("#e-alert"), "");
  $("#e-average").textContent = "";
  $("#i-monitor").href = `/monitor/${interviewId}`;
  fill($("#report-body"), h("p", { class: "muted", text: "Loading…" }));
  try {
    const interview = await api(`/api/v1/interview/${encodeURIComponent(interviewId)}`);
    const c = await candidate(interview.candidate_id).catch(() => null);
    $("#interview-title").textContent = `${c ? c.name : "Interview"} · ${interview.job_title || ""}`;
    $("#interview-sub").textContent = `${interview.status.replaceAll("_", " ")} · scheduled ${formatDate(interview.scheduled_at)}`;
    form.dataset.questions = JSON.stringify(interview.questions.map((q) => [q.id, q.text]));
  } catch (error) {
    say($("#e-alert"), problem(error), "error");
    return;
  }
  await Promise.all([loadReport(interviewId), loadEvaluation(interviewId)]);
}

async function loadReport(interviewId) {
  const texts = new Map(JSON.parse($("#evaluation-form").dataset.questions || "[]"));
  try {
    fill($("#report-body"), renderReport(await api(`/interviews/${encodeURIComponent(interviewId)}/report`), texts));
  } catch (error) {
    fill($("#report-body"), h("p", { class: "alert error", text: problem(error) }));
  }
}

async function loadEvaluation(interviewId) {
  const form = $("#evaluation-form");
  try {
    const { data } = await api(`/api/interview-management/${encodeURIComponent(interviewId)}/`);
    form.dataset.exists = data.evaluation ? "yes" : "";
    if (data.evaluation) fillEvaluation(data.evaluation);
  } catch (error) {
    say($("#e-alert"), problem(error), "error");
  }
}

function fillEvaluation(evaluation) {
  const form = $("#evaluation-form");
  for (const name of ["appearance", "knowledge", "confidence", "attitude", "communication", "languages", "expected_salary", "experience", "remark"]) {
    const value = evaluation[name];
    form.elements[name].value = value === null || value === undefined ? "" : String(value);
  }
  const average = evaluation.average_rating;
  $("#e-average").textContent = average === null || average === undefined ? "" : `Average rating ${average} / 10`;
  if (evaluation.voice_note_status) $("#e-average").textContent += ` · voice note ${evaluation.voice_note_status}`;
}

async function saveEvaluation(event) {
  event.preventDefault();
  const form = event.target;
  const data = new FormData();
  for (const name of ["appearance", "knowledge", "confidence", "attitude", "communication", "languages", "expected_salary", "experience", "remark"]) {
    const value = form.elements[name].value.trim();
    if (value !== "") data.append(name, value);
  }
  const voice = form.elements.voice_note.files[0];
  if (voice) data.append("voice_note", voice, voice.name);
  const method = form.dataset.exists ? "PUT" : "POST";
  $("#e-submit").disabled = true;
  try {
    const result = await api(`/api/interview-management/${encodeURIComponent(form.dataset.interview)}/evaluation/`, { method, form: data });
    form.dataset.exists = "yes";
    form.elements.voice_note.value = "";
    fillEvaluation(result.data);
    say($("#e-alert"), result.message || "Evaluation saved.", "ok");
  } catch (error) {
    say($("#e-alert"), problem(error), "error");
  } finally {
    $("#e-submit").disabled = false;
  }
}

// ------------------------------------------------------------------------------------------ start

async function main() {
  const user = await signedIn($("#signin-form"), ["hr", "admin"]);
  $("#step-signin").hidden = true;
  $("#tabs").hidden = false;
  $("#who").textContent = `${user.name} · ${user.role}`;
  $("#sign-out").hidden = false;
  await loadRoles();
  window.addEventListener("hashchange", route);
  await route();
}

let searchTimer = null;
$("#candidate-filter").addEventListener("submit", (event) => { event.preventDefault(); loadCandidates(); });
$("#c-search").addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(loadCandidates, 250); });
$("#c-status").addEventListener("change", loadCandidates);
$("#add-candidate-toggle").addEventListener("click", () => toggleAddForm($("#add-candidate").hidden));
$("#c-cancel").addEventListener("click", () => toggleAddForm(false));
$("#add-candidate").addEventListener("submit", addCandidate);
$("#schedule-form").addEventListener("submit", schedule);
$("#q-add").addEventListener("click", () => {
  const item = questionItem();
  $("#question-list").append(item);
  $(".q-text", item).focus();
});
$("#question-list").addEventListener("click", (event) => {
  const button = event.target.closest(".q-remove");
  if (button) button.closest("li").remove();
});
$("#q-save").addEventListener("click", saveQuestions);
$("#i-status").addEventListener("change", showInterviews);
$("#i-refresh").addEventListener("click", showInterviews);
$("#evaluation-form").addEventListener("submit", saveEvaluation);
$("#r-refresh").addEventListener("click", () => loadReport($("#evaluation-form").dataset.interview));
$("#sign-out").addEventListener("click", () => { auth.signOut(); location.assign("/manage/"); });

main();
