"""The room socket ``/ws/interviews/{id}``: the I/O shell around ``server.session.InterviewSession``.

Feed, then drain: every input (a text frame, candidate audio, a clock tick, the result of some work) is
given to the machine, then ``pump`` sends the queued messages in order and runs the queued effects. The
shell decides nothing; long work (speech, transcription, storage, WebRTC) runs in tasks that report back
through the machine's inputs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket as sockets
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from protocol.messages import CloseCode, Hello, ProtocolError, encode
from server.domain.errors import ServiceUnavailable
from server.jobs import announce
from server.live import actions
from server.live.audio import SAMPLE_RATE, AnswerRecording, PreRoll, VoiceActivity
from server.live.handshake import SessionElsewhere, admit
from server.live.limits import SocketQuota
from server.live.rtc import RtcIngest, ice_servers
from server.logs import log
from server.services import Services
from server.session import InterviewSession, InvalidPhase
from server.session import effects as fx
from server.session.model import Question, SessionConfig
from server.session.quality import assess
from server.speech.stt import STTJob, Transcript, join_transcripts
from server.store.channels import commands_channel, events_channel, snapshot_key

router = APIRouter()
PRE_ROLL_S = 0.5
BYTES_PER_S = SAMPLE_RATE * 2
MIN_PIECE_BYTES = int(1.5 * BYTES_PER_S)  # pieces shorter than this wait for the next pause
MIN_TAIL_BYTES = int(0.3 * BYTES_PER_S)
SNAPSHOT_TTL_S = 7 * 24 * 3600
WRITE_AHEAD = (fx.CompleteInterview, fx.EndInterview)  # database writes that the messages report
KEEP_RETRY_S = 1.0  # how often a room kept for its unsaved snapshot tries the store again
CLOSE_FLUSH_S = 2.0  # how long a closing room waits for its queued snapshot, then events, to be stored
MAX_UNPUBLISHED = 10_000  # events kept while the bus is unreachable (the oldest go first beyond this)


class LiveRoom:
    """One interview's live session on this instance: the machine, its socket, audio and running work."""

    def __init__(self, services: Services, machine: InterviewSession, voice: str) -> None:
        self.services, self.machine, self.voice = services, machine, voice
        self.interview_id = machine.interview_id
        self.sockets: dict[int, WebSocket] = {}
        self.media_seen: set[int] = set()
        self.rtc: dict[int, RtcIngest] = {}
        self.vad = VoiceActivity()
        self.pre_roll = PreRoll(PRE_ROLL_S)
        self.recording: AnswerRecording | None = None
        self.recording_qid: str | None = None
        self.pieces: list[tuple[int, STTJob]] = []  # (first byte in the recording, its transcription)
        self.committed = 0
        self.finished: dict[str, AnswerRecording] = {}
        self.finished_pieces: dict[str, tuple[list[tuple[int, STTJob]], int]] = {}
        self.transcripts: dict[str, Any] = {}
        self.speaking: dict[str, asyncio.Task[None]] = {}
        self.tasks: set[asyncio.Task[Any]] = set()
        self.filming: RtcIngest | None = None  # the peer whose camera records the current answer
        self.quality = QualityWatch()
        self.filmed: dict[str, asyncio.Task[Any]] = {}  # finishing each answer's video file
        self._pump_lock = asyncio.Lock()
        self._ticker: asyncio.Task[None] | None = None
        self._kick_pending = False
        self.unsaved: dict[str, Any] | None = None  # the newest snapshot not yet stored (queued or refused)
        self.unpublished: deque[dict[str, Any]] = deque()  # events not yet published, oldest first
        self._publish_again_at = 0.0
        self._publishing = asyncio.Lock()
        self._storing = asyncio.Lock()
        self._snapshot_writer: asyncio.Task[None] | None = None
        self._publisher: asyncio.Task[None] | None = None

    # ---- running -------------------------------------------------------------------------------------

    def start(self, owner: str, commands_after: int) -> None:
        """Run the clock (which also keeps ``owner``'s lease on the session) and take HR commands published
        after ``commands_after`` on the interview's command channel."""
        if self._ticker is None:
            self._ticker = asyncio.create_task(
                self._tick_forever(owner), name=f"live-tick-{self.interview_id}"
            )
            self.spawn(self._follow_commands(commands_after), f"live-commands-{self.interview_id}")

    async def _tick_forever(self, owner: str) -> None:
        store, ttl = self.services.store, self.services.settings.live_owner_ttl_s
        renewed = time.monotonic()
        while True:
            await asyncio.sleep(0.1)
            self.machine.tick()
            await self.pump()
            if self.quality.due() and self.machine.connection in self.media_seen:
                self.spawn(self._report_quality(self.machine.connection), "quality")
            if time.monotonic() - renewed >= ttl / 3:
                renewed = time.monotonic()
                await self.retry_snapshot()
                try:
                    if await store.claim(snapshot_key(self.interview_id), owner, ttl) != owner:
                        log.error("live_lease_lost", interview_id=self.interview_id)
                except Exception as exc:  # the store is down: keep the session going, try again later
                    log.warning("live_lease_renewal_failed", error_type=type(exc).__name__)

    async def _follow_commands(self, after: int) -> None:
        """Apply the commands published for this session; if the bus fails, follow again from the last one."""
        channel = commands_channel(self.interview_id)
        while True:
            try:
                async with contextlib.aclosing(self.services.bus.subscribe(channel, after)) as commands:
                    async for seq, command in commands:
                        after = seq
                        await self.command(command)
                return  # the bus was closed
            except Exception as exc:
                log.warning("live_commands_interrupted", error_type=type(exc).__name__)
                await asyncio.sleep(1.0)

    async def command(self, command: dict[str, Any]) -> None:
        """Apply an HR command (``add_question`` or ``terminate``) to the session, then pump."""
        try:
            if command.get("kind") == "add_question":
                question = Question.model_validate(command["question"])
                if all(q.id != question.id for q in self.machine.questions):
                    self.machine.add_question(question, added_by=command.get("added_by"))
            elif command.get("kind") == "terminate":
                self.machine.terminate()
        except (ValueError, KeyError, InvalidPhase) as exc:
            log.warning("live_command_refused", kind=command.get("kind"), error_type=type(exc).__name__)
        await self.pump()

    def spawn(self, work: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(work)
        task.set_name(name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def kick(self) -> None:
        """Schedule a pump from synchronous code (audio callbacks)."""
        if not self._kick_pending:
            self._kick_pending = True
            self.spawn(self._kicked(), "live-kick")

    async def _kicked(self) -> None:
        self._kick_pending = False
        await self.pump()

    async def pump(self) -> None:
        """Send every queued message in order and run every queued effect (one pump at a time), with the
        writes that the messages report first: a snapshot marked ``before_messages`` and the
        :data:`WRITE_AHEAD` effects. So ``answer.saved`` or ``interview.completed`` never reaches the
        client before what it reports is stored, while other snapshots do not delay the messages."""
        async with self._pump_lock:
            while True:
                messages, effects = self.machine.drain_messages(), self.machine.drain_effects()
                if not messages and not effects:
                    return
                # Write-ahead: what a message tells the client (an answer saved, the interview over) is
                # stored before the message is sent. Only the newest snapshot is written.
                snapshots = [e for e in effects if isinstance(e, fx.SaveSnapshot)]
                first = any(snapshot.before_messages for snapshot in snapshots)
                if first:
                    await self._save_snapshot(snapshots[-1], wait=True)
                for ahead in effects:
                    if isinstance(ahead, WRITE_AHEAD):
                        await self._run(ahead)
                for outgoing in messages:
                    await self._send_text(outgoing.connection, outgoing.text)
                for later in effects:
                    if not isinstance(later, (*WRITE_AHEAD, fx.SaveSnapshot)):
                        await self._run(later)
                if snapshots and not first:
                    await self._save_snapshot(snapshots[-1], wait=False)

    async def refuse(self, connection: int, error: ProtocolError) -> None:
        """Send ``error`` to the connection and close it with its code (after what the pump is sending)."""
        async with self._pump_lock:
            await self._send_text(connection, encode(error.to_message()))
            socket = self.sockets.get(connection)
            if socket is not None and socket.application_state == WebSocketState.CONNECTED:
                with contextlib.suppress(RuntimeError, OSError):
                    await socket.close(int(error.code), error.message[:120])

    async def _send_text(self, connection: int, text: str) -> None:
        socket = self.sockets.get(connection)
        if socket is not None and socket.application_state == WebSocketState.CONNECTED:
            try:
                await socket.send_text(text)
            except (RuntimeError, OSError, WebSocketDisconnect):
                pass

    # ---- audio in --------------------------------------------------------------------------------------

    def on_audio(self, connection: int, pcm: bytes) -> None:
        """Candidate audio (PCM16 16 kHz mono) from a binary frame or the WebRTC track."""
        if connection != self.machine.connection:
            return
        if connection not in self.media_seen:
            self.media_seen.add(connection)
            self.machine.media_connected(connection)
            self.kick()
        if self.recording is not None:
            self.recording.add(pcm)
        self.quality.audio_bytes += len(pcm)
        now = time.time()
        events = self.vad.feed(pcm)
        for event in events:
            at = now - (self.vad.stream_s - event.at_s)
            if event.kind == "speech.started":
                self.machine.speech_started(at=at)
            else:
                self.machine.speech_stopped(at=at)
                self._cut_piece()
        self.pre_roll.add(pcm)
        if events:  # most frames change nothing in the machine: pump only when VAD reported something
            self.kick()

    def _cut_piece(self) -> None:
        """At a pause, transcribe the answer so far in the background, so that when the answer ends only
        the last piece is left to transcribe (and partial transcripts can be shown meanwhile).

        Only while the recogniser is idle: every call pays for a whole 30-second Whisper window, so under
        load pieces would cost more than they save. Then the piece just grows to the next pause, and the end
        of the answer takes whatever is left in one call."""
        recording, question_id = self.recording, self.recording_qid
        if recording is None or question_id is None or recording.size - self.committed < MIN_PIECE_BYTES:
            return
        if not self.services.stt.idle:
            return
        start, end = self.committed, recording.size
        try:
            job = self.services.stt.submit(recording.samples(start, end), urgent=False)
        except ServiceUnavailable:
            return
        self.pieces.append((start, job))
        self.committed = end
        job.future.add_done_callback(lambda _: self._partial(question_id))

    def _partial(self, question_id: str) -> None:
        if question_id != self.recording_qid:
            return
        done = []
        for _, job in self.pieces:  # the answer's beginning, as far as it is transcribed without a gap
            if not job.future.done() or job.future.cancelled() or job.future.exception() is not None:
                break
            done.append(job.future.result().text)
        text = " ".join(part for part in done if part).strip()
        if text:
            self.machine.transcript_partial(question_id, text)
            self.kick()

    async def _report_quality(self, connection: int | None) -> None:
        """Measure the candidate's connection; publish ``connection.quality`` when it changed (or anew every
        30 s) for the monitors."""
        peer = self.rtc.get(connection if connection is not None else -1)
        stats = await peer.audio_stats() if peer is not None else None
        event = self.quality.measure("webrtc" if peer is not None else "pcm", stats)
        if event is not None:
            try:
                await self.services.bus.publish(events_channel(self.interview_id), event)
            except Exception as exc:
                log.warning("quality_publish_failed", error_type=type(exc).__name__)

    # ---- effects ----------------------------------------------------------------------------------------

    async def _run(self, effect: fx.Effect) -> None:
        handler = _HANDLERS.get(type(effect))
        if handler is None:
            return
        try:
            await handler(self, effect)
        except Exception as exc:
            log.error("live_effect_failed", effect=type(effect).__name__, error_type=type(exc).__name__)

    async def _speak(self, effect: fx.SpeakQuestion) -> None:
        question = effect.question
        self.pre_roll.fence()  # the next answer's pre-roll starts no earlier than its question
        self.speaking[question.id] = self.spawn(self._stream_speech(question), f"speak-{question.id}")

    async def _stream_speech(self, question: Question) -> None:
        started, duration = False, 0.0
        try:
            async for chunk in self.services.tts.stream(question.text, self.voice):
                if not started:
                    self.machine.audio_started(question.id, chunk.sample_rate)
                    await self.pump()
                    started = True
                socket = self.sockets.get(self.machine.connection or -1)
                if socket is not None:
                    await socket.send_bytes(chunk.pcm)
                duration += chunk.duration_s
            self.machine.audio_finished(question.id, duration) if started else self.machine.audio_failed(
                question.id
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("live_speech_failed", error_type=type(exc).__name__)
            self.machine.audio_failed(question.id)
        finally:
            self.speaking.pop(question.id, None)
        await self.pump()

    async def _stop_speaking(self, effect: fx.StopSpeaking) -> None:
        task = self.speaking.pop(effect.question_id, None)
        if task is not None:
            task.cancel()

    async def _start_recording(self, effect: fx.StartRecording) -> None:
        self.recording = AnswerRecording(self.services.settings.max_media_seconds)
        self.recording_qid, self.pieces, self.committed = effect.question_id, [], 0
        for chunk in self.pre_roll.chunks():
            self.recording.add(chunk)
        peer = self.rtc.get(self.machine.connection or -1)
        if peer is not None and self.services.settings.live_record_video:
            path = self.services.settings.uploads_dir / "answers" / f"{uuid.uuid4().hex}.webm"
            if await peer.start_video(path):
                self.filming = peer

    async def _stop_recording(self, effect: fx.StopRecording) -> None:
        recording, peer, self.filming = self.recording, self.filming, None
        if effect.keep and recording is not None:
            self.finished[effect.question_id] = recording
            self.finished_pieces[effect.question_id] = (self.pieces, self.committed)
        else:
            for _, job in self.pieces:
                job.future.cancel()
        if peer is not None:  # finishing the file takes a moment: the save waits for it, nothing else does
            self.filmed[effect.question_id] = self.spawn(
                self._finish_video(peer, recording if effect.keep else None), f"video-{effect.question_id}"
            )
        self.recording, self.recording_qid, self.pieces, self.committed = None, None, [], 0

    async def _finish_video(self, peer: RtcIngest, recording: AnswerRecording | None) -> None:
        path = await peer.stop_video()
        if recording is not None:
            recording.video = path
        elif path is not None:
            path.unlink(missing_ok=True)

    async def _transcribe(self, effect: fx.Transcribe) -> None:
        self.spawn(self._transcribe_task(effect.question_id), f"transcribe-{effect.question_id}")

    async def _transcribe_task(self, question_id: str) -> None:
        recording = self.finished.get(question_id)
        pieces, committed = self.finished_pieces.pop(question_id, ([], 0))
        try:
            if recording is None:
                raise ValueError("no recording")
            parts: list[tuple[float, Transcript]] = []
            for index, (start, job) in enumerate(pieces):
                if job.cancel():  # still queued: the rest of the answer goes in one urgent call instead
                    for _, later in pieces[index + 1 :]:
                        later.future.cancel()
                    committed = start
                    break
                parts.append((start / BYTES_PER_S, await job.future))
            if recording.size - committed >= MIN_TAIL_BYTES or not parts:
                tail = await self.services.stt.transcribe(recording.samples(committed), urgent=True)
                parts.append((committed / BYTES_PER_S, tail))
            transcript = join_transcripts(parts)
            self.transcripts[question_id] = transcript
            self.machine.transcript_final(
                question_id, transcript.text, transcript.confidence, transcript={"model": transcript.model}
            )
        except Exception as exc:
            log.warning("live_transcription_failed", error_type=type(exc).__name__)
            self.machine.transcript_failed(question_id)
        await self.pump()

    async def _save(self, effect: fx.SaveAnswer) -> None:
        self.spawn(self._save_task(effect), f"save-{effect.question_id}")

    async def _save_task(self, effect: fx.SaveAnswer) -> None:
        recording = self.finished.pop(effect.question_id, None) or AnswerRecording(1)
        transcript = self.transcripts.pop(effect.question_id, None)
        filmed = self.filmed.pop(effect.question_id, None)
        if filmed is not None:
            await asyncio.gather(filmed, return_exceptions=True)
        try:
            answer_id = await actions.save_answer(
                self.services,
                self.interview_id,
                effect.question_id,
                transcript,
                recording,
                _when(effect.speech_at or effect.listening_at),
                _when(effect.ended_at),
                retry_for_s=self.services.settings.live_save_retries_s,
            )
            self.machine.answer_saved(effect.question_id, answer_id)
        except Exception as exc:
            log.error("live_save_failed", error_type=type(exc).__name__)
            self.machine.save_failed(effect.question_id)
        await self.pump()

    async def _follow_up(self, effect: fx.SuggestFollowUp) -> None:
        self.spawn(self._follow_up_task(effect), f"follow-up-{effect.question_id}")

    async def _follow_up_task(self, effect: fx.SuggestFollowUp) -> None:
        question = None
        try:
            suggestion = await self.services.ai.follow_up(effect.question_text, effect.answer_text)
            if suggestion.text:
                stored = await actions.add_follow_up(
                    self.services, self.interview_id, effect.question_id, suggestion.text
                )
                question = Question(
                    id=stored["id"],
                    order=stored["order"],
                    text=stored["text"],
                    category="follow_up",
                    expected_minutes=stored["expected_minutes"],
                    follow_up_of=effect.question_id,
                )
        except Exception as exc:
            log.warning("live_follow_up_failed", error_type=type(exc).__name__)
        self.machine.follow_up_ready(effect.question_id, question)
        await self.pump()

    async def _negotiate(self, effect: fx.NegotiateMedia) -> None:
        self.spawn(self._negotiate_task(effect), "rtc-negotiate")

    async def _negotiate_task(self, effect: fx.NegotiateMedia) -> None:
        settings = self.services.settings
        connection = effect.connection
        peer = RtcIngest(lambda pcm: self.on_audio(connection, pcm), ice=ice_servers(settings.ice_servers))
        old = self.rtc.pop(connection, None)
        if old is not None:
            await old.close()
        self.rtc[connection] = peer
        try:
            sdp = await peer.accept_offer(effect.sdp)
            self.machine.rtc_answer(connection, sdp, effect.request_id)
        except Exception as exc:
            log.warning("rtc_offer_failed", error_type=type(exc).__name__)
            self.machine.rtc_failed(connection, effect.request_id)
        await self.pump()

    async def _ice(self, effect: fx.AddIceCandidate) -> None:
        peer = self.rtc.get(effect.connection)
        if peer is not None:
            await peer.add_candidate(effect.candidate, effect.sdp_mid, effect.sdp_mline_index)

    async def _publish(self, effect: fx.Publish) -> None:
        """Publish the event for the monitors. When the bus is unreachable the event is kept (bounded, in
        order) and published with the ones after it once the bus is back, so no monitor misses it."""
        if len(self.unpublished) >= MAX_UNPUBLISHED:
            self.unpublished.popleft()
            log.error("live_event_dropped", interview_id=self.interview_id, kept=MAX_UNPUBLISHED)
        self.unpublished.append(effect.event.model_dump(mode="json", exclude_none=True))
        publishing = self._publisher is not None and not self._publisher.done()
        if not publishing and time.monotonic() >= self._publish_again_at:
            # In the background, in order: the next effects (the next question's speech) do not wait for
            # the bus (a database write per event without Redis).
            self._publisher = self.spawn(self._flush_events(), "live-publish")

    async def _flush_events(self) -> None:
        """Publish the kept events in order (one publisher at a time)."""
        async with self._publishing:
            while self.unpublished:
                try:
                    await self.services.bus.publish(events_channel(self.interview_id), self.unpublished[0])
                except Exception as exc:
                    self._publish_again_at = time.monotonic() + KEEP_RETRY_S
                    log.warning(
                        "live_events_unpublished", count=len(self.unpublished), error_type=type(exc).__name__
                    )
                    return
                self.unpublished.popleft()

    async def _complete(self, effect: fx.CompleteInterview) -> None:
        await actions.mark_completed(self.services, self.interview_id, len(self.machine.questions))
        self.services.jobs.spawn(announce.report_if_ready(self.services, self.interview_id))

    async def _end(self, effect: fx.EndInterview) -> None:
        await actions.mark_ended(self.services, self.interview_id, len(self.machine.answered))
        self.services.jobs.spawn(announce.report_if_ready(self.services, self.interview_id))

    async def _close(self, effect: fx.Close) -> None:
        socket = self.sockets.pop(effect.connection, None)
        peer = self.rtc.pop(effect.connection, None)
        if peer is not None:
            await peer.close()
        if socket is not None and socket.application_state == WebSocketState.CONNECTED:
            try:
                await socket.close(code=int(effect.code), reason=effect.reason[:120])
            except (RuntimeError, OSError):
                pass

    async def _save_snapshot(self, effect: fx.SaveSnapshot, *, wait: bool) -> None:
        """Store the snapshot: with ``wait``, before returning (it records what the next messages
        acknowledge); else in the background, so that the messages and speech that follow do not wait for
        the store. When the store is unreachable the snapshot is kept, and the clock writes it again (the
        newest one only) once the store is back, so a resume after the outage finds the session."""
        self.unsaved = effect.snapshot
        if wait:
            await self._write_snapshot()
        elif self._snapshot_writer is None or self._snapshot_writer.done():
            self._snapshot_writer = self.spawn(self._write_snapshot(), "live-snapshot")

    async def _write_snapshot(self) -> None:
        """Write the newest unsaved snapshot (one writer at a time: an older one never lands last)."""
        async with self._storing:
            while (snapshot := self.unsaved) is not None:
                try:
                    await self.services.store.put(
                        snapshot_key(self.interview_id), snapshot, ttl_s=SNAPSHOT_TTL_S
                    )
                except Exception as exc:
                    log.warning("live_snapshot_unsaved", error_type=type(exc).__name__)
                    return
                if self.unsaved is snapshot:
                    self.unsaved = None

    @property
    def pending_writes(self) -> bool:
        """A snapshot or events that only this room holds, because the store or the bus refused them."""
        return self.unsaved is not None or bool(self.unpublished)

    async def retry_snapshot(self) -> None:
        """Write a snapshot that the store refused earlier (under the pump lock: never over a newer one),
        and publish the events the bus refused."""
        if self.pending_writes:
            async with self._pump_lock:
                await self._write_snapshot()
                await self._flush_events()

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        with contextlib.suppress(Exception):  # the queued snapshot and events go out first, briefly
            await asyncio.wait_for(self._write_snapshot(), CLOSE_FLUSH_S)
            await asyncio.wait_for(self._flush_events(), CLOSE_FLUSH_S)
        for peer in list(self.rtc.values()):
            await peer.close()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, *([self._ticker] if self._ticker else []), return_exceptions=True)


_HANDLERS: dict[type, Callable[[LiveRoom, Any], Awaitable[None]]] = {
    fx.SpeakQuestion: LiveRoom._speak,
    fx.StopSpeaking: LiveRoom._stop_speaking,
    fx.StartRecording: LiveRoom._start_recording,
    fx.StopRecording: LiveRoom._stop_recording,
    fx.Transcribe: LiveRoom._transcribe,
    fx.SaveAnswer: LiveRoom._save,
    fx.SuggestFollowUp: LiveRoom._follow_up,
    fx.NegotiateMedia: LiveRoom._negotiate,
    fx.AddIceCandidate: LiveRoom._ice,
    fx.Publish: LiveRoom._publish,
    fx.CompleteInterview: LiveRoom._complete,
    fx.EndInterview: LiveRoom._end,
    fx.Close: LiveRoom._close,
}


def _when(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


class QualityWatch:
    """Audio received per window and the RTP receiver's counters, turned into ``connection.quality``."""

    WINDOW_S, REPEAT_S = 5.0, 30.0

    def __init__(self) -> None:
        self.audio_bytes = 0
        self.since = time.monotonic()
        self.rtp: tuple[int, int] | None = None  # packets received, lost at the last measure
        self.level: str | None = None
        self.published = 0.0

    def due(self) -> bool:
        return time.monotonic() - self.since >= self.WINDOW_S

    def measure(self, transport: str, stats: tuple[int, int, float] | None) -> dict[str, Any] | None:
        """The event to publish now, or None when nothing worth telling changed."""
        now = time.monotonic()
        ratio = self.audio_bytes / BYTES_PER_S / max(now - self.since, 1e-3)
        self.audio_bytes, self.since = 0, now
        loss = jitter = None
        if stats is not None:
            received, lost, jitter = stats
            got, missed = (
                (received, lost) if self.rtp is None else (received - self.rtp[0], lost - self.rtp[1])
            )
            loss = max(0.0, missed / (got + missed)) if got + missed > 0 else 0.0
            self.rtp = (received, lost)
        level = assess(ratio, loss, jitter)
        if level == self.level and now - self.published < self.REPEAT_S:
            return None
        self.level, self.published = level, now
        event: dict[str, Any] = {"type": "connection.quality", "level": level, "transport": transport}
        event["audio_ratio"] = round(min(ratio, 9.99), 2)
        if loss is not None:
            event["packet_loss"] = round(loss, 4)
        if jitter is not None:
            event["jitter_ms"] = round(jitter, 1)
        return event


class LiveRooms:
    """The live sessions this instance holds, by interview id.

    Holding a session means holding its lease in the SessionStore (renewed by the room's clock while it is
    open, released when it closes): with Redis, one instance of many drives each session, and a session
    whose instance died is free again once its lease runs out.
    """

    def __init__(self, services: Services) -> None:
        self.services = services
        self.rooms: dict[str, LiveRoom] = {}
        self.instance = services.settings.instance_url or (
            f"{sockets.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        )
        self._lock = asyncio.Lock()
        self._keepers: dict[str, asyncio.Task[None]] = {}

    def config(self) -> SessionConfig:
        settings = self.services.settings
        return SessionConfig(
            silence_ms=settings.live_silence_ms,
            max_answer_s=settings.max_media_seconds,  # the recording keeps no more than this either
            barge_in=settings.live_barge_in,
            heartbeat_s=settings.live_heartbeat_s,
            ice_servers=tuple(ice_servers(settings.ice_servers)),
            max_follow_ups=settings.live_max_follow_ups,
            advance_early=settings.live_advance_early,
        )

    async def open(self, interview_id: str, voice: str, questions: list[dict[str, Any]]) -> LiveRoom:
        """The interview's room: already here, restored from its snapshot, or new.

        Raises SessionElsewhere when another instance holds the session, ProtocolError at capacity.
        """
        async with self._lock:
            room = self.rooms.get(interview_id)
            if room is not None:
                return room
            if len(self.rooms) >= self.services.settings.live_max_sessions:
                raise ProtocolError(
                    CloseCode.RATE_LIMITED, "this server is at capacity; try again shortly", fatal=True
                )
            after = await self._commands_end(interview_id)
            await self._claim(interview_id)
            try:
                machine = await self._machine(interview_id, questions)
            except BaseException:
                await self.services.store.release(snapshot_key(interview_id), self.instance)
                raise
            room = LiveRoom(self.services, machine, voice)
            self.rooms[interview_id] = room
            room.start(self.instance, after)
            return room

    async def _commands_end(self, interview_id: str) -> int:
        """The last command already published, so that a room takes only the commands sent after it."""
        history = await self.services.bus.history(commands_channel(interview_id))
        return history[-1][0] if history else 0

    async def _claim(self, interview_id: str) -> None:
        ttl = self.services.settings.live_owner_ttl_s
        owner = await self.services.store.claim(snapshot_key(interview_id), self.instance, ttl)
        if owner != self.instance:
            raise SessionElsewhere(owner)

    async def _machine(self, interview_id: str, questions: list[dict[str, Any]]) -> InterviewSession:
        """The session from its snapshot (or a new one), reconciled with the answers the database holds
        and the events already published, so nothing acknowledged is asked again or renumbered."""
        snapshot = await self.services.store.get(snapshot_key(interview_id))
        if snapshot is not None:
            machine = InterviewSession.restore(snapshot, config=self.config())
        else:
            machine = InterviewSession(
                session_id=uuid.uuid4().hex,
                interview_id=interview_id,
                questions=[Question(**q) for q in questions],
                report_url=f"/interviews/{interview_id}/report",
                config=self.config(),
            )
        progress = await actions.progress(self.services, interview_id)
        history = await self.services.bus.history(events_channel(interview_id))
        machine.reconcile(
            progress.answers,
            seq_floor=max((int(event.get("seq") or 0) for _, event in history), default=0),
            follow_ups_used=progress.ai_follow_ups,
        )
        return machine

    async def command(self, interview_id: str, command: dict[str, Any]) -> None:
        """Deliver an HR command to the session wherever it is held: here, on the instance holding it (over
        the command channel), or, when no instance holds it, in a room opened here for the purpose."""
        room = self.rooms.get(interview_id)
        if room is not None:
            await room.command(command)
            return
        owner = await self.services.store.owner(snapshot_key(interview_id))
        if owner is not None and owner != self.instance:
            await self.services.bus.publish(commands_channel(interview_id), command)
            return
        joined = await actions.session_questions(self.services, interview_id)
        try:
            room = await self.open(interview_id, joined.interview.voice, joined.questions)
        except SessionElsewhere:
            await self.services.bus.publish(commands_channel(interview_id), command)
            return
        await room.command(command)
        await self.release(room)

    async def release(self, room: LiveRoom) -> None:
        """Close the room once its last socket has left, and give up its lease (which, if the store is
        unreachable, runs out on its own)."""
        if room.sockets:
            return
        async with self._lock:
            if self.rooms.get(room.interview_id) is room and not room.sockets:
                await room.retry_snapshot()
                if room.pending_writes:  # the store is down: this is the only copy of the session
                    self._keep_until_saved(room)
                    return
                del self.rooms[room.interview_id]
                await room.close()
                try:
                    await self.services.store.release(snapshot_key(room.interview_id), self.instance)
                except Exception as exc:
                    log.warning("live_release_failed", error_type=type(exc).__name__)

    def _keep_until_saved(self, room: LiveRoom) -> None:
        """Keep an empty room (clock, lease and all) until its snapshot is stored and its events published,
        then release it; a candidate who comes back meanwhile finds it here."""
        if room.interview_id in self._keepers:
            return

        async def keep() -> None:
            try:
                while room.pending_writes and not room.sockets:
                    await asyncio.sleep(KEEP_RETRY_S)
                    await room.retry_snapshot()
            finally:
                self._keepers.pop(room.interview_id, None)
            await self.release(room)

        self._keepers[room.interview_id] = asyncio.create_task(keep(), name=f"live-keep-{room.interview_id}")

    async def close(self) -> None:
        keepers = list(self._keepers.values())
        for task in keepers:
            task.cancel()
        await asyncio.gather(*keepers, return_exceptions=True)
        for room in list(self.rooms.values()):
            await room.close()
            try:
                await self.services.store.release(snapshot_key(room.interview_id), self.instance)
            except Exception as exc:  # the lease runs out on its own
                log.warning("live_release_failed", error_type=type(exc).__name__)
        self.rooms.clear()


@router.websocket("/ws/interviews/{interview_id}")
async def room_socket(websocket: WebSocket, interview_id: str) -> None:
    services: Services = websocket.app.state.services

    async def open_room(hello: Hello) -> LiveRoom:
        joined = await actions.join(services, hello.token, interview_id)
        return await services.live.open(interview_id, joined.interview.voice, joined.questions)

    admitted = await admit(websocket, services, open_room)
    if admitted is None:
        return
    hello, room, quota = admitted
    connection = room.machine.join(hello)
    room.sockets[connection] = websocket
    try:
        await actions.mark_in_progress(services, interview_id)
        await room.pump()
        await _serve(room, connection, websocket, quota)
    finally:
        quota.release()
        room.sockets.pop(connection, None)
        room.machine.disconnected(connection)
        await room.pump()
        await services.live.release(room)


async def _serve(room: LiveRoom, connection: int, websocket: WebSocket, quota: SocketQuota) -> None:
    while websocket.application_state == WebSocketState.CONNECTED:
        try:
            message = await websocket.receive()
        except (WebSocketDisconnect, RuntimeError):
            return
        if message["type"] == "websocket.disconnect":
            return
        if not await quota.allow(binary=message.get("bytes") is not None):
            await room.refuse(connection, quota.refusal())
            return
        if message.get("bytes") is not None:
            room.on_audio(connection, message["bytes"])
        elif message.get("text") is not None:
            room.machine.receive_text(connection, message["text"])
            await room.pump()
