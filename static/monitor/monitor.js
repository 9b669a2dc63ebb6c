// HR's live monitor: /ws/monitor/{id} (protocol/README.md "The monitor socket"): state, the stream of
// events as a transcript, scores, HR actions, the candidate's video (receive-only WebRTC) and the report.
import { api, auth } from "../common/api.js";
import { $, fill, h, idFromPath, say, showOnly, wsUrl } from "../common/dom.js";
import { renderReport } from "../common/report.js";
import { signedIn } from "../common/signin.js";

const PROTOCOL = "1.0";
const FATAL = {
  4001: "Your sign-in is no longer valid. Reload the page to sign in again.",
  4003: "Only HR and admin accounts can monitor interviews.",
  4004: "This interview was not found.",
  4010: "This page is out of date. Please reload it.",
};
const PHASE_TEXT = {
  lobby: "Waiting for the candidate", media_connecting: "Connecting audio", asking: "Asking", listening: "Listening",
  thinking: "Processing answer", completed: "Completed", ended: "Ended",
};
const LIVE_PHASES = new Set(["asking", "listening", "thinking"]);

const interviewId = idFromPath();
const steps = [$("#step-signin"), $("#step-monitor")];
const ui = {
  fatal: $("#fatal"), who: $("#who"), liveDot: $("#live-dot"), liveText: $("#live-text"), title: $("#monitor-title"),
  subtitle: $("#subtitle"), phase: $("#phase"), status: $("#status"), progress: $("#progress"), video: $("#video"),
  videoNote: $("#video-note"), videoRetry: $("#video-retry"), unmute: $("#unmute"), current: $("#current-question"),
  currentMeta: $("#current-meta"), actionAlert: $("#action-alert"), followUp: $("#follow-up"), note: $("#note"),
  end: $("#end"), transcript: $("#transcript"), turnCount: $("#turn-count"), scores: $("#scores"), report: $("#report"),
  reportRefresh: $("#report-refresh"),
};

const state = {
  ws: null, lastSeq: 0, retries: 0, requestId: 0, questions: new Map(), question: null, answered: new Set(),
  total: 0, phase: null, partials: new Map(), candidateTurns: new Map(), pending: new Map(), pc: null,
  offerId: null, videoUp: false, over: false, reportUrl: `/interviews/${encodeURIComponent(interviewId || "")}/report`,
  heartbeat: null,
};

function nextId(prefix) {
  state.requestId += 1;
  return `${prefix}${state.requestId}`;
}

function send(message) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) {
    state.ws.send(JSON.stringify(message));
    return true;
  }
  return false;
}

async function main() {
  if (!interviewId) {
    say(ui.fatal, "This link has no interview id.", "error");
    return;
  }
  const user = await signedIn($("#signin-form"), ["hr", "admin"]);
  ui.who.textContent = user.name;
  showOnly(steps, $("#step-monitor"));
  connect();
}

// ------------------------------------------------------------------------------------------ socket

function connect() {
  const ws = new WebSocket(wsUrl(`/ws/monitor/${encodeURIComponent(interviewId)}`));
  state.ws = ws;
  ws.addEventListener("open", () => {
    const hello = { type: "hello", id: nextId("h"), token: auth.token, protocol: PROTOCOL };
    if (state.lastSeq) Object.assign(hello, { resume: true, last_seq: state.lastSeq });
    ws.send(JSON.stringify(hello));
  });
  ws.addEventListener("message", (event) => {
    if (ws !== state.ws || typeof event.data !== "string") return;
    const message = JSON.parse(event.data);
    if (typeof message.seq === "number") {
      if (message.seq <= state.lastSeq) return;
      state.lastSeq = message.seq;
    }
    const handler = HANDLERS[message.type];
    if (handler) handler(message);
  });
  ws.addEventListener("close", (event) => {
    if (ws !== state.ws) return;
    clearInterval(state.heartbeat);
    closeVideo();
    setLive(false, "Disconnected");
    if (FATAL[event.code]) {
      if (event.code === 4001) auth.signOut();
      say(ui.fatal, FATAL[event.code], "error");
      return;
    }
    state.retries += 1;
    const delay = event.code === 4029 ? 10000 : Math.min(10000, 500 * 2 ** Math.min(state.retries, 5));
    setTimeout(connect, delay);
  });
}

const HANDLERS = {
  "monitor.welcome"(message) {
    state.retries = 0;
    clearInterval(state.heartbeat);
    state.heartbeat = setInterval(() => send({ type: "ping", id: nextId("p") }), 10000);
    state.iceServers = message.ice_servers || [];
    const s = message.state;
    const candidate = s.candidate ? s.candidate.name : "Candidate";
    ui.title.textContent = `${candidate}`;
    ui.subtitle.textContent = `${s.job_title || "Interview"} · live monitor`;
    document.title = `${candidate} · Viva monitor`;
    for (const q of s.questions || []) state.questions.set(q.question_id, q);
    for (const id of s.answered || []) state.answered.add(id);
    state.total = (s.questions || []).length;
    setStatus(s.status);
    setPhase(s.phase || null, s.live);
    if (s.question) setCurrent(s.question);
    updateProgress();
    if (["completed", "evaluated"].includes(s.status)) { state.over = true; loadReport(); }
    if (["cancelled"].includes(s.status)) state.over = true;
    updateActions();
    maybeOfferVideo();
  },
  "phase.changed"(message) {
    setPhase(message.phase, true);
    maybeOfferVideo();
  },
  "client.joined"(message) {
    system(message.resumed ? "The candidate reconnected." : "The candidate joined.");
  },
  "client.left"(message) {
    system(`The candidate left${message.code ? ` (code ${message.code})` : ""}.`);
    closeVideo();
  },
  "question.added"(message) {
    state.questions.set(message.question_id, message);
    state.total = message.total || state.total + 1;
    const by = message.source === "hr" ? `${message.added_by || "HR"} added a follow-up` : "The AI added a follow-up";
    system(`${by}: “${message.text}”`);
    updateProgress();
  },
  "question.started"(message) {
    state.questions.set(message.question_id, message);
    state.total = message.total || state.total;
    setCurrent(message);
    if (ui.status.textContent === "scheduled") setStatus("in_progress");
    turn("interviewer", `Interviewer · Q${message.number}${message.is_follow_up ? " · follow-up" : ""}`, message.text);
    updateProgress();
  },
  "transcript.partial"(message) {
    let node = state.partials.get(message.question_id);
    if (!node) {
      node = turn("candidate partial", "Candidate · speaking…", message.text);
      state.partials.set(message.question_id, node);
    } else {
      $("p", node).textContent = message.text;
    }
  },
  "transcript.final"(message) {
    const partial = state.partials.get(message.question_id);
    state.partials.delete(message.question_id);
    if (partial) partial.remove();
    const number = (state.questions.get(message.question_id) || {}).number;
    const node = turn("candidate", `Candidate${number ? ` · A${number}` : ""}`, message.text || "(no words recognised)");
    state.candidateTurns.set(message.question_id, node);
    const scored = state.pending.get(message.question_id);
    if (scored) chip(node, scored);
  },
  "answer.saved"(message) {
    state.answered.add(message.question_id);
    updateProgress();
  },
  "answer.scored"(message) {
    addScore(message);
    const node = state.candidateTurns.get(message.question_id);
    if (node) chip(node, message);
    else state.pending.set(message.question_id, message);
  },
  "note.added"(message) {
    const number = (state.questions.get(message.question_id) || {}).number;
    turn("note", `Note by ${message.author_name}${number ? ` · Q${number}` : ""}`, message.text);
  },
  "interview.completed"(message) {
    state.over = true;
    system(`Interview complete: ${message.answered} of ${message.total} answered. Scoring…`);
    setStatus("completed");
    updateActions();
  },
  "session.ended"(message) {
    state.over = true;
    system(message.reason === "terminated" ? "HR ended the interview." : "The candidate left the interview for good.");
    setStatus("ended");
    updateActions();
  },
  "report.ready"(message) {
    state.reportUrl = message.report_url || state.reportUrl;
    system(`Report ready: ${message.decision}.`);
    loadReport();
  },
  "monitor.ack"(message) {
    const text = { follow_up: "Follow-up added: it is asked after the current question.", note: "Note saved.", end: "The interview was ended." }[message.action];
    say(ui.actionAlert, text || "Done.", "ok");
  },
  "rtc.answer"(message) {
    if (state.pc && message.id === state.offerId) state.pc.setRemoteDescription({ type: "answer", sdp: message.sdp }).catch(() => videoFailed());
  },
  "rtc.candidate"(message) {
    if (state.pc && message.candidate) state.pc.addIceCandidate({ candidate: message.candidate, sdpMid: message.sdpMid, sdpMLineIndex: message.sdpMLineIndex }).catch(() => {});
  },
  "session.moved"(message) {
    if (message.id === state.offerId) {
      closeVideo();
      ui.videoNote.textContent = "The candidate's video is held by another server instance.";
    }
  },
  error(message) {
    if (message.id && message.id === state.offerId) {
      closeVideo();
      ui.videoNote.textContent = message.code === 4012 ? "Video appears once the candidate's camera is connected." : "The video could not be connected.";
      return;
    }
    say(ui.actionAlert, message.message || "That action was refused.", "error");
  },
};

// ------------------------------------------------------------------------------------------ video

function maybeOfferVideo() {
  if (!state.videoUp && !state.pc && LIVE_PHASES.has(state.phase)) offerVideo().catch(() => videoFailed());
}

async function offerVideo() {
  closeVideo();
  const pc = new RTCPeerConnection({ iceServers: state.iceServers || [] });
  state.pc = pc;
  pc.addTransceiver("audio", { direction: "recvonly" });
  pc.addTransceiver("video", { direction: "recvonly" });
  const stream = new MediaStream();
  pc.addEventListener("track", (event) => {
    stream.addTrack(event.track);
    ui.video.srcObject = stream;
    ui.video.play().catch(() => {});
  });
  pc.addEventListener("connectionstatechange", () => {
    if (pc !== state.pc) return;
    if (pc.connectionState === "connected") {
      state.videoUp = true;
      ui.videoNote.hidden = true;
      ui.video.dataset.state = "connected";
    } else if (["failed", "closed", "disconnected"].includes(pc.connectionState)) {
      videoFailed();
    }
  });
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") return resolve();
    const timer = setTimeout(resolve, 3000);
    pc.addEventListener("icegatheringstatechange", () => { if (pc.iceGatheringState === "complete") { clearTimeout(timer); resolve(); } });
  });
  if (pc !== state.pc) return;
  state.offerId = nextId("v");
  ui.videoNote.textContent = "Connecting video…";
  send({ type: "rtc.offer", id: state.offerId, sdp: pc.localDescription.sdp });
}

function videoFailed() {
  closeVideo();
  ui.videoNote.textContent = "The video connection dropped. Use “Connect video” to try again.";
}

function closeVideo() {
  if (state.pc) state.pc.close();
  state.pc = null;
  state.videoUp = false;
  delete ui.video.dataset.state;
  ui.video.srcObject = null;
  ui.videoNote.hidden = false;
}

// ------------------------------------------------------------------------------------------ view

function setLive(on, text) {
  ui.liveDot.className = `dot${on ? " on" : ""}`;
  ui.liveText.textContent = text;
}

function setPhase(phase, live) {
  state.phase = phase;
  ui.phase.textContent = phase ? PHASE_TEXT[phase] || phase : "Not started";
  ui.phase.className = `badge ${phase === "listening" ? "danger" : phase === "completed" ? "ok" : phase ? "info" : ""}`;
  const on = Boolean(live) && phase && !["completed", "ended", "lobby"].includes(phase);
  setLive(on, on ? "Live" : phase === "lobby" ? "Candidate away" : "Not live");
}

function setStatus(status) {
  ui.status.textContent = (status || "—").replaceAll("_", " ");
  ui.status.className = `badge ${status || ""}`;
}

function setCurrent(question) {
  state.question = question;
  ui.current.textContent = question.text;
  ui.currentMeta.textContent = `Question ${question.number} of ${question.total} · ${question.category || ""}${question.is_follow_up ? " · follow-up" : ""} · about ${question.expected_minutes} min`;
}

function updateProgress() {
  ui.progress.textContent = `${state.answered.size} of ${state.total || "?"} answered`;
}

function updateActions() {
  for (const button of document.querySelectorAll("#actions button")) button.disabled = state.over;
}

function turn(kind, who, text) {
  const node = h("li", { class: `turn ${kind}` }, h("span", { class: "who", text: who }), h("p", { text }));
  ui.transcript.append(node);
  ui.transcript.scrollTop = ui.transcript.scrollHeight;
  ui.turnCount.textContent = `${ui.transcript.querySelectorAll(".turn.candidate:not(.partial)").length} answers`;
  return node;
}

function system(text) {
  return turn("system", "", text);
}

function chip(node, scored) {
  if ($(".score-chip", node)) return;
  node.append(h("span", { class: "badge info score-chip", text: `Score ${Math.round(scored.scores.overall)} / 100` }));
}

function addScore(scored) {
  const empty = $(".empty-row", ui.scores);
  if (empty) empty.remove();
  const number = (state.questions.get(scored.question_id) || {}).number || "?";
  const cell = (value) => h("td", {}, String(Math.round(value)), h("span", { class: "scorebar", attrs: { "aria-hidden": "true" } }, h("span")));
  const row = h("tr", { data: { question: scored.question_id } },
    h("th", { scope: "row", text: `Q${number}` }),
    cell(scored.scores.accuracy), cell(scored.scores.communication), cell(scored.scores.behaviour),
    h("td", {}, h("strong", { text: String(Math.round(scored.scores.overall)) })));
  // Bar widths through the CSSOM (allowed by the CSP, unlike style attributes in markup).
  const values = [scored.scores.accuracy, scored.scores.communication, scored.scores.behaviour];
  row.querySelectorAll(".scorebar > span").forEach((bar, n) => { bar.style.width = `${Math.max(0, Math.min(100, values[n]))}%`; });
  ui.scores.append(row, h("tr", { class: "feedback-row" }, h("td", {}), h("td", { colSpan: 4, text: scored.feedback || "" })));
}

async function loadReport() {
  try {
    const report = await api(state.reportUrl);
    const texts = new Map([...state.questions].map(([id, q]) => [id, q.text]));
    fill(ui.report, renderReport(report, texts));
  } catch (error) {
    fill(ui.report, h("p", { class: "alert error", text: error.summary || "The report could not be loaded." }));
  }
}

// ------------------------------------------------------------------------------------------ actions

$("#follow-up-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = ui.followUp.value.trim();
  if (text.length < 5) return say(ui.actionAlert, "A follow-up needs at least 5 characters.", "error");
  if (send({ type: "monitor.follow_up", id: nextId("f"), text })) ui.followUp.value = "";
  return undefined;
});
$("#note-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = ui.note.value.trim();
  if (!text) return say(ui.actionAlert, "Write a note first.", "error");
  const message = { type: "monitor.note", id: nextId("n"), text };
  if (state.question) message.question_id = state.question.question_id;
  if (send(message)) ui.note.value = "";
  return undefined;
});
ui.end.addEventListener("click", () => {
  if (!window.confirm("End this interview now? Answers already given are kept.")) return;
  send({ type: "monitor.end", id: nextId("e"), reason: "Ended by HR from the monitor" });
});
ui.videoRetry.addEventListener("click", () => offerVideo().catch(() => videoFailed()));
ui.unmute.addEventListener("change", () => { ui.video.muted = !ui.unmute.checked; });
ui.reportRefresh.addEventListener("click", loadReport);

main();
