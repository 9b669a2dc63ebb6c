"""The resources one running app holds, opened by the lifespan and reached by routes via ``request``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from server.ai.base import AIEngine
from server.config import Settings
from server.security import LoginThrottle, TokenService
from server.store.db import Database
from server.store.durable import open_durable_state
from server.store.state import EventBus, SessionStore, open_state

if TYPE_CHECKING:
    from server.jobs.worker import AnswerWorker
    from server.live.fanout import Fanout
    from server.live.limits import SocketGate
    from server.live.room import LiveRooms
    from server.speech.stt import STTPool
    from server.speech.tts import TTSService


@dataclass
class Services:
    settings: Settings
    db: Database
    store: SessionStore
    bus: EventBus
    tokens: TokenService
    login_throttle: LoginThrottle
    ai: AIEngine
    stt: STTPool = field(init=False)
    jobs: AnswerWorker = field(init=False)
    live: LiveRooms = field(init=False)
    fanout: Fanout = field(init=False)
    sockets: SocketGate = field(init=False)
    tts: TTSService = field(init=False)

    @classmethod
    async def open(cls, settings: Settings) -> Services:
        db = Database(settings.effective_database_url, statement_timeout_s=settings.db_statement_timeout_s)
        store: SessionStore
        bus: EventBus
        if settings.redis_url:
            store, bus = await open_state(settings.redis_url, prefix=settings.redis_prefix)
        else:  # one instance: live state in the database, so that a restart resumes sessions
            store, bus = open_durable_state(db)
        tokens = TokenService(settings.signing_key(), timedelta(minutes=settings.token_ttl_minutes))
        throttle = LoginThrottle.create(
            settings.redis_url,
            settings.redis_prefix,
            settings.login_attempts_per_account,
            settings.login_attempts_per_address,
            settings.login_window_s,
        )
        from server.ai.engine import build_engine
        from server.jobs.worker import AnswerWorker
        from server.speech.stt import build_stt
        from server.speech.tts import build_tts

        services = cls(settings, db, store, bus, tokens, throttle, build_engine(settings))
        services.stt = build_stt(settings)
        from server.live.room import LiveRooms

        services.live = LiveRooms(services)
        from server.live.fanout import Fanout

        services.fanout = Fanout(bus)
        from server.live.limits import SocketGate

        services.sockets = SocketGate(
            settings.live_max_sockets,
            settings.live_max_sockets_per_address,
            settings.socket_messages_per_s,
            settings.socket_audio_frames_per_s,
        )
        services.tts = build_tts(settings)
        services.jobs = AnswerWorker(
            services,
            concurrency=settings.media_workers + 1,
            poll_s=settings.job_poll_s,
            lease_s=settings.job_lease_s,
        )
        return services

    async def close(self) -> None:
        await self.live.close()
        await self.fanout.close()
        await self.jobs.close()
        await self.tts.close()
        await self.stt.close()
        await self.ai.close()
        await self.login_throttle.close()
        await self.bus.close()
        await self.store.close()
        await self.db.close()
