"""The resources one running app holds, opened by the lifespan and reached by routes via ``request``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from server.config import Settings
from server.security import LoginThrottle, TokenService
from server.store.db import Database
from server.store.state import EventBus, SessionStore, open_state


@dataclass
class Services:
    settings: Settings
    db: Database
    store: SessionStore
    bus: EventBus
    tokens: TokenService
    login_throttle: LoginThrottle

    @classmethod
    async def open(cls, settings: Settings) -> Services:
        db = Database(settings.effective_database_url)
        store, bus = await open_state(settings.redis_url, prefix=settings.redis_prefix)
        tokens = TokenService(settings.signing_key(), timedelta(minutes=settings.token_ttl_minutes))
        throttle = LoginThrottle.create(
            settings.redis_url,
            settings.redis_prefix,
            settings.login_attempts_per_account,
            settings.login_attempts_per_address,
            settings.login_window_s,
        )
        return cls(settings, db, store, bus, tokens, throttle)

    async def close(self) -> None:
        await self.login_throttle.close()
        await self.bus.close()
        await self.store.close()
        await self.db.close()
