"""Viva's command line: ``serve``, ``users create``, ``db upgrade``, ``demo``."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Sequence

from server.config import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m server", description="Viva interview server")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP/WebSocket server")
    serve.add_argument("--host", default=os.environ.get("VIVA_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("VIVA_PORT", "8000")))
    serve.add_argument("--reload", action="store_true", help="restart on code changes (development)")
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--demo", action="store_true", help="create demo accounts and data, print the logins")

    users = commands.add_parser("users", help="manage accounts").add_subparsers(
        dest="users_command", required=True
    )
    create = users.add_parser("create", help="create an account")
    create.add_argument("--email", required=True)
    create.add_argument("--password", help="prompted for when omitted")
    create.add_argument("--role", choices=["candidate", "hr", "admin"], default="hr")
    create.add_argument("--name", required=True)

    db = commands.add_parser("db", help="database").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply migrations")

    commands.add_parser("demo", help="create demo accounts and data, print the logins")
    commands.add_parser("worker", help="process uploaded answers (transcribe, analyse, score) until stopped")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    from server.logs import configure_logging

    configure_logging(settings.log_level, json=settings.log_json and args.command in ("serve", "worker"))
    if args.command == "serve":
        return _serve(settings, args)
    if args.command == "db":
        from server.store.db import upgrade

        upgrade(settings.effective_database_url)
        print("database is up to date")
        return 0
    if args.command == "users":
        return asyncio.run(_create_user(settings, args))
    if args.command == "demo":
        return asyncio.run(_demo(settings))
    if args.command == "worker":
        return asyncio.run(_worker(settings))
    return 2


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from server.store.db import upgrade

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    if args.demo:
        asyncio.run(_demo(settings))
    print(f"Viva is listening on http://{args.host}:{args.port}  (API docs: /docs)", flush=True)
    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        reload=args.reload,
        workers=None if args.reload else args.workers,
        proxy_headers=True,
        log_level="warning",
        ws="websockets-sansio",
    )
    return 0


async def _create_user(settings: Settings, args: argparse.Namespace) -> int:
    from server.bootstrap import ensure_user
    from server.services import Services
    from server.store.db import upgrade_async
    from server.store.models import Role

    password = args.password or getpass.getpass("Password: ")
    if len(password) < 8:
        print("password must be at least 8 characters", file=sys.stderr)
        return 2
    await upgrade_async(settings.effective_database_url)
    services = await Services.open(settings)
    try:
        created = await ensure_user(services, args.email, password, Role(args.role), args.name)
    finally:
        await services.close()
    print(f"created {args.role} {args.email}" if created else f"{args.email} already exists", flush=True)
    return 0 if created else 1


async def _demo(settings: Settings) -> int:
    from server.bootstrap import seed_demo
    from server.services import Services
    from server.store.db import upgrade_async

    await upgrade_async(settings.effective_database_url)
    services = await Services.open(settings)
    try:
        logins = await seed_demo(services)
    finally:
        await services.close()
    print("Demo logins (change or remove them before real use):")
    for login in logins:
        print(f"  {login.role:<10} {login.email:<24} {login.password}")
    return 0


async def _worker(settings: Settings) -> int:
    """Run the durable answer worker until SIGINT/SIGTERM; a killed worker's jobs are taken over later."""
    import signal

    from server.services import Services
    from server.store.db import upgrade_async

    await upgrade_async(settings.effective_database_url)
    services = await Services.open(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"worker {services.jobs.worker_id} started", flush=True)
    try:
        await services.jobs.run_until_stopped(stop)
    finally:
        await services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
