// The interview room: sign-in, device check, consent, then the live interview over /ws/interviews/{id}
// (protocol/README.md). Audio goes over WebRTC (mic + camera) and falls back to PCM16 frames on the socket.
import { api, auth } from "../common/api.js";
import { $, formatTime, h, idFromPath, say, showOnly, wsUrl } from "../common/dom.js";
import { signedIn } from "../common/signin.js";
import { capturePcm, chime, levelMeter, SpeechPlayer } from "./audio.js";

const PROTOCOL = "1.0";
const RTC_TIMEOUT_MS = 12000;
const FATAL = {
  4001: "Your sign-in is no longer valid. Please sign in again.",
  4003: "This interview is not open: it may not be scheduled yet, or it has already ended.",
  4004: "This interview was not found.",
  4009: "You joined this interview from another tab or device, so this one was disconnected.",
  4010: "This page is out of date. Please reload it.",
};

const interviewId = idFromPath();
const steps = ["#step-signin", "#step-check", "#step-consent", "#step-interview", "#step-finish"].map((s) => $(s));
const ui = {
  fatal: $("#fatal"), who: $("#who"), signOut: $("#sign-out"),
  preview: $("#preview"), checkAlert: $("#check-alert"), checkMeter: $("#check-meter"),
  checkContinue: $("#check-continue"), checkRetry: $("#check-retry"), speakerTest: $("#speaker-test"),
  consentBox: $("#consent-box"), consentRole: $("#consent-role"), start: $("#start"),
  progressText: $("#progress-text"), progressBar: $("#progress-bar"), state: $("#state"), stateText: $("#state-text"),
  question: $("#question"), timer: $("#timer"), timerValue: $("#timer-value"), timerBar: $("#timer-bar"),
  liveMeter: $("#live-meter"), captions: $("#captions"), done: $("#done"), skip: $("#skip"), leave: $("#leave"),
  net: $("#net"), selfView: $("#self-view"), finishTitle: $("#finish-title"), finishText: $("#finish-text"),
  finishDetail: $("#finish-detail"),
};

// Everything the live connection needs; one object so reconnects can reset parts of it.
const live = {
  stream: null, context: null, player: null, ws: null, url: null, pc: null, stopPcm: null, usePcm: false,
  config: null, lastSeq: 0, joined: false, finished: false, question: null, total: 0, answered: 0, saved: new Set(),
  heartbeat: null, timerTick: null, retries: 0, requestId: 0, offerId: null, rtcTimer: null, stopMeter: null,
};
const forcePcm = new URLSearchParams(location.search).get("audio") === "pcm";

function fatal(message) {
  say(ui.fatal, message, "error");
}

// ------------------------------------------------------------------------------------------ steps

async function main() {
  if (!interviewId) {
    fatal("This link has no interview id. Open the link you were sent.");
    return;
  }
  const user = await signedIn($("#signin-form"), ["candidate"]);
  ui.who.textContent = user.name;
  ui.signOut.hidden = false;
  ui.signOut.addEventListener("click", () => { auth.signOut(); location.reload(); });
  try {
    const interview = await api(`/api/v1/interview/${encodeURIComponent(interviewId)}`);
    ui.consentRole.textContent = `Interview for ${interview.job_title || "the role"} · ${interview.questions.length} questions`;
    if (["completed", "evaluated"].includes(interview.status)) return finish("Interview complete", "This interview is already complete. Thank you!");
    if (interview.status === "cancelled") return finish("Interview cancelled", "This interview was cancelled.");
  } catch (error) {
    fatal(error.status === 404 || error.status === 403 ? FATAL[4004] : error.summary || String(error));
    return;
  }
  showOnly(steps, $("#step-check"));
  await deviceCheck();
}

async function deviceCheck() {
  ui.checkContinue.disabled = true;
  ui.checkRetry.hidden = true;
  say(ui.checkAlert, "Asking for your camera and microphone…", "info");
  try {
    live.stream = await openDevices();
  } catch (error) {
    say(ui.checkAlert, `We could not use your microphone (${error.name || error}). Allow access in the browser and try again.`, "error");
    ui.checkRetry.hidden = false;
    return;
  }
  const hasVideo = live.stream.getVideoTracks().length > 0;
  say(ui.checkAlert, hasVideo ? "Camera and microphone are ready." : "Microphone ready. No camera was found: the interview continues with audio only.", hasVideo ? "ok" : "warn");
  ui.preview.srcObject = live.stream;
  const meterContext = new AudioContext();
  live.stopCheckMeter = levelMeter(meterContext, live.stream, ui.checkMeter);
  live.checkContext = meterContext;
  ui.checkContinue.disabled = false;
  ui.checkContinue.focus();
}

async function openDevices() {
  const audio = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
  try {
    return await navigator.mediaDevices.getUserMedia({ audio, video: { width: { ideal: 640 }, height: { ideal: 480 } } });
  } catch (error) {
    if (error.name === "NotAllowedError") throw error;
    return navigator.mediaDevices.getUserMedia({ audio, video: false });
  }
}

function toConsent() {
  if (live.stopCheckMeter) live.stopCheckMeter();
  if (live.checkContext) live.checkContext.close();
  showOnly(steps, $("#step-consent"));
}

async function startInterview() {
  ui.start.disabled = true;
  live.context = new AudioContext();
  await live.context.resume();
  live.player = new SpeechPlayer(live.context);
  live.stopMeter = levelMeter(live.context, live.stream, ui.liveMeter);
  ui.selfView.srcObject = live.stream;
  ui.selfView.hidden = live.stream.getVideoTracks().length === 0;
  showOnly(steps, $("#step-interview"));
  setState("connecting", "Connecting…");
  connect(homeUrl());
}

function homeUrl() {
  return wsUrl(`/ws/interviews/${encodeURIComponent(interviewId)}`);
}

function finish(title, text, detail = "") {
  live.finished = true;
  cleanupConnection();
  if (live.stopMeter) live.stopMeter();
  if (live.stream) for (const track of live.stream.getTracks()) track.stop();
  ui.finishTitle.textContent = title;
  ui.finishText.textContent = text;
  ui.finishDetail.textContent = detail;
  showOnly(steps, $("#step-finish"));
}

// ------------------------------------------------------------------------------------------ socket

function nextId(prefix) {
  live.requestId += 1;
  return `${prefix}${live.requestId}`;
}

function send(message) {
  if (live.ws && live.ws.readyState === WebSocket.OPEN) live.ws.send(JSON.stringify(message));
}

function connect(url) {
  live.url = url;
  let ws;
  try {
    ws = new WebSocket(url);
  } catch {
    // A URL this page may not reach (e.g. another host that the CSP refuses): retry through our own host.
    setTimeout(() => connect(homeUrl()), 1000);
    return;
  }
  ws.binaryType = "arraybuffer";
  live.ws = ws;
  ws.addEventListener("open", () => {
    const hello = { type: "hello", id: nextId("h"), token: auth.token, protocol: PROTOCOL, client: { ua: navigator.userAgent } };
    if (live.joined) Object.assign(hello, { resume: true, last_seq: live.lastSeq });
    ws.send(JSON.stringify(hello));
  });
  ws.addEventListener("message", (event) => {
    if (ws !== live.ws) return;
    if (event.data instanceof ArrayBuffer) live.player.push(event.data);
    else onMessage(JSON.parse(event.data));
  });
  ws.addEventListener("close", (event) => {
    if (ws === live.ws) onClose(event);
  });
}

function onMessage(message) {
  if (typeof message.seq === "number") live.lastSeq = Math.max(live.lastSeq, message.seq);
  const handler = HANDLERS[message.type];
  if (handler) handler(message);
}

const HANDLERS = {
  welcome(message) {
    live.joined = true;
    live.retries = 0;
    live.config = message.config || {};
    ui.net.textContent = "";
    const heartbeat = (live.config.heartbeat_s || 30) * 1000 / 3;
    clearInterval(live.heartbeat);
    live.heartbeat = setInterval(() => send({ type: "ping", id: nextId("p") }), heartbeat);
    const state = message.state || {};
    live.total = state.total || live.total;
    live.saved = new Set(state.answered || []);
    live.answered = live.saved.size;
    if (state.question) showQuestion(state.question);
    updateProgress();
    setState("connecting", "Connecting your microphone…");
    startMedia();
  },
  "question.started"(message) {
    showQuestion(message);
    setState("speaking", "Interviewer is speaking");
    ui.done.disabled = true;
    ui.skip.hidden = false;
    clearCaptions();
  },
  "question.audio.start"(message) {
    live.player.begin(message.sample_rate);
  },
  "question.audio.end"(message) {
    const questionId = message.question_id;
    if (!message.ok || message.interrupted) return;
    live.player.finish(() => {
      if (live.question && live.question.question_id === questionId) send({ type: "playback.ended", question_id: questionId });
    });
  },
  listening(message) {
    live.player.stop();
    ui.skip.hidden = true;
    setState("listening", "Listening — answer now");
    ui.done.disabled = false;
    startTimer(message.deadline_s);
  },
  "speech.started"() {
    setState("listening", "Listening — we can hear you");
  },
  "speech.stopped"() {
    if (ui.state.dataset.phase === "listening") setState("listening", "Listening — take your time");
  },
  "transcript.partial"(message) {
    showCaption(message.text, false);
  },
  thinking(message) {
    stopTimer();
    ui.done.disabled = true;
    setState("thinking", message.reason === "time_limit" ? "Time is up — saving your answer" : "Saving your answer…");
  },
  "transcript.final"(message) {
    if (!isCurrent(message)) return; // an earlier answer, stored while the next question runs (early advance)
    showCaption(message.text, true);
  },
  "answer.saved"(message) {
    live.saved.add(message.question_id);
    live.answered = live.saved.size;
    updateProgress();
    if (isCurrent(message)) setState("thinking", "Answer saved");
  },
  "interview.completed"(message) {
    finish("Thank you!", "Your interview is complete. The hiring team will review it and be in touch.", `${message.answered} of ${message.total} questions answered.`);
  },
  "session.ended"(message) {
    const byHr = message.reason === "terminated";
    finish(byHr ? "The interview has ended" : "You left the interview", byHr ? "The hiring team ended this interview. Thank you for your time." : "Your answers so far are saved.");
  },
  "rtc.answer"(message) {
    if (live.pc && message.id === live.offerId) live.pc.setRemoteDescription({ type: "answer", sdp: message.sdp }).catch(() => fallBackToPcm());
  },
  "rtc.candidate"(message) {
    if (live.pc && message.candidate) live.pc.addIceCandidate({ candidate: message.candidate, sdpMid: message.sdpMid, sdpMLineIndex: message.sdpMLineIndex }).catch(() => {});
  },
  "session.moved"(message) {
    live.moved = { url: message.url, after: (message.retry_after_s || 1) * 1000 };
  },
  error(message) {
    if (message.id && message.id === live.offerId) {
      fallBackToPcm();
      return;
    }
    if (message.code === 4500) ui.net.textContent = "Something went wrong on our side; the question will be asked again.";
  },
};

function onClose(event) {
  cleanupConnection();
  if (live.finished) return;
  const code = event.code;
  if (FATAL[code]) {
    if (code === 4001) auth.signOut();
    fatal(FATAL[code]);
    setState("connecting", "Disconnected");
    return;
  }
  let delay;
  let url = homeUrl();
  if (code === 4307) {
    const moved = live.moved || { after: 1000 };
    if (moved.url && /^wss?:\/\//.test(moved.url)) url = moved.url;
    delay = url === homeUrl() ? moved.after : 0;
    live.moved = null;
  } else {
    live.retries += 1;
    delay = Math.min(10000, 500 * 2 ** Math.min(live.retries, 5));
  }
  setState("connecting", "Reconnecting…");
  ui.net.textContent = `Connection lost. Reconnecting in ${Math.ceil(delay / 1000)} s…`;
  setTimeout(() => { if (!live.finished) connect(url); }, delay);
}

function cleanupConnection() {
  clearInterval(live.heartbeat);
  clearTimeout(live.rtcTimer);
  stopTimer();
  if (live.player) live.player.stop();
  if (live.pc) { live.pc.close(); live.pc = null; }
  if (live.stopPcm) { live.stopPcm(); live.stopPcm = null; }
  if (live.ws && live.finished) live.ws.close(1000);
}

// ------------------------------------------------------------------------------------------ media

function startMedia() {
  if (live.usePcm || forcePcm || typeof RTCPeerConnection === "undefined") {
    startPcm();
    return;
  }
  startRtc().catch(() => fallBackToPcm());
}

async function startRtc() {
  if (live.pc) live.pc.close();
  const pc = new RTCPeerConnection({ iceServers: live.config.ice_servers || [] });
  live.pc = pc;
  for (const track of live.stream.getTracks()) pc.addTrack(track, live.stream);
  pc.addEventListener("connectionstatechange", () => {
    if (pc !== live.pc) return;
    if (pc.connectionState === "connected") {
      clearTimeout(live.rtcTimer);
      document.body.dataset.audio = "webrtc";
    }
    if (pc.connectionState === "failed") fallBackToPcm();
  });
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc, 3000);
  if (pc !== live.pc) return;
  pc.addEventListener("icecandidate", (event) => {
    // Candidates found after the offer was sent trickle; the offer already holds the others.
    if (event.candidate) send({ type: "rtc.candidate", candidate: event.candidate.candidate, sdpMid: event.candidate.sdpMid, sdpMLineIndex: event.candidate.sdpMLineIndex });
  });
  live.offerId = nextId("o");
  send({ type: "rtc.offer", id: live.offerId, sdp: pc.localDescription.sdp });
  live.rtcTimer = setTimeout(() => { if (pc === live.pc && pc.connectionState !== "connected") fallBackToPcm(); }, RTC_TIMEOUT_MS);
}

function gathered(pc, timeoutMs) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") { clearTimeout(timer); resolve(); }
    });
  });
}

/** WebRTC did not connect: send the microphone as PCM16 frames on the socket instead (same pipeline). */
function fallBackToPcm() {
  if (live.usePcm) return;
  live.usePcm = true;
  clearTimeout(live.rtcTimer);
  if (live.pc) { live.pc.close(); live.pc = null; }
  if (live.ws && live.ws.readyState === WebSocket.OPEN) {
    // The server's peer for this connection is replaced only by a new offer, so reconnect cleanly.
    live.ws.close(4000 + 0, "switching to PCM audio");
  }
}

async function startPcm() {
  if (live.stopPcm) live.stopPcm();
  document.body.dataset.audio = "pcm";
  const ws = live.ws;
  live.stopPcm = await capturePcm(live.context, live.stream, (frame) => {
    if (ws === live.ws && ws.readyState === WebSocket.OPEN) ws.send(frame);
  });
}

// ------------------------------------------------------------------------------------------ view

function showQuestion(question) {
  live.question = question;
  live.total = question.total || live.total;
  ui.question.textContent = question.text;
  ui.progressText.textContent = `Question ${question.number} of ${question.total}${question.is_follow_up ? " · follow-up" : ""}`;
  updateProgress();
}

function isCurrent(message) {
  return !live.question || message.question_id === live.question.question_id;
}

function updateProgress() {
  const total = live.total || 1;
  ui.progressBar.style.width = `${Math.min(100, (100 * live.answered) / total)}%`;
}

function setState(phase, text) {
  ui.state.dataset.phase = phase;
  ui.stateText.textContent = text;
}

function clearCaptions() {
  ui.captions.replaceChildren(h("span", { class: "muted", text: "Your words appear here as you speak." }));
}

function showCaption(text, final) {
  ui.captions.replaceChildren(h("span", { class: final ? "final" : "partial", text: text || "…" }));
}

function startTimer(seconds) {
  stopTimer();
  if (!seconds) return;
  const ends = performance.now() + seconds * 1000;
  ui.timer.hidden = false;
  const tick = () => {
    const left = Math.max(0, (ends - performance.now()) / 1000);
    ui.timerValue.textContent = formatTime(left);
    ui.timerBar.style.width = `${(100 * left) / seconds}%`;
  };
  tick();
  live.timerTick = setInterval(tick, 250);
}

function stopTimer() {
  clearInterval(live.timerTick);
  ui.timer.hidden = true;
}

// ------------------------------------------------------------------------------------------ controls

ui.checkRetry.addEventListener("click", deviceCheck);
ui.checkContinue.addEventListener("click", toConsent);
ui.speakerTest.addEventListener("click", () => {
  const context = live.checkContext || new AudioContext();
  live.checkContext = context;
  context.resume().then(() => chime(context));
});
ui.consentBox.addEventListener("change", () => { ui.start.disabled = !ui.consentBox.checked; });
ui.start.addEventListener("click", startInterview);
ui.done.addEventListener("click", () => {
  if (!live.question) return;
  ui.done.disabled = true;
  send({ type: "answer.done", id: nextId("d"), question_id: live.question.question_id });
});
ui.skip.addEventListener("click", () => {
  if (!live.question) return;
  live.player.stop();
  ui.skip.hidden = true;
  send({ type: "playback.ended", question_id: live.question.question_id });
});
ui.leave.addEventListener("click", () => {
  if (!window.confirm("Leave the interview? You cannot rejoin it afterwards.")) return;
  send({ type: "session.end", reason: "The candidate left the interview" });
});

main();
