"""``create_app(settings)``: builds the Viva app; the lifespan opens and closes every resource."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from server import __version__, bootstrap
from server.api import (
    agents,
    ai_interviews,
    auth,
    candidates,
    catalogs,
    errors,
    health,
    interview_service,
    management,
    pages,
    roles,
    tracking,
    tts,
    users,
)
from server.api.pages import PageSecurityHeaders
from server.config import Settings
from server.live import monitor as live_monitor
from server.live import room as live_room
from server.logs import AccessLogMiddleware, BodyLimitMiddleware, InputGuardMiddleware, configure_logging, log
from server.services import Services
from server.store.db import upgrade_async


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if settings.auto_migrate:
            await upgrade_async(settings.effective_database_url)
        services = await Services.open(settings)
        app.state.services = services
        try:
            await bootstrap.ensure_admin(services)
            if settings.embedded_worker:
                services.jobs.start()
            if settings.preload_models:
                await services.stt.warm_up()
                await services.tts.warm_up()
            log.info(
                "started", database=services.db.engine.url.get_backend_name(), redis=bool(settings.redis_url)
            )
            yield
        finally:
            await services.close()

    app = FastAPI(
        title="Viva",
        version=__version__,
        summary="Real-time AI interview server: live interviews, HR monitoring and management APIs.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url="/redoc",
    )
    errors.install(app)
    app.include_router(live_room.router)
    app.include_router(live_monitor.router)
    for module in (
        health,
        auth,
        users,
        candidates,
        roles,
        management,
        ai_interviews,
        interview_service,
        catalogs,
        tracking,
        agents,
        tts,
    ):
        app.include_router(module.router)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["Authorization", "Content-Type"],
    )
    pages.install(app)
    app.add_middleware(PageSecurityHeaders)
    app.add_middleware(InputGuardMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(AccessLogMiddleware)
    return app
