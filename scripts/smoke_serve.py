"""Prove the README's first command on this checkout: ``./scripts/serve`` in a fresh venv with no extras.

Steps (each failure exits 1 and says which step):

1. start ``./scripts/serve`` with a new, empty venv and data dir, and interrupt it (SIGKILL) while pip is
   installing — a first install that a user cut short;
2. start it again: the install must recover and finish, the server must answer ``/healthz``;
3. sign in with a demo login read from what the command printed, read ``/auth/me`` and fetch ``/manage/``;
4. stop it with SIGINT, as Ctrl-C would, and expect a clean exit.

Standard library only (the venv under test has no HTTP client of ours). Usage:
``python3 scripts/smoke_serve.py [--keep-venv DIR] [--no-interrupt]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTALL_TIMEOUT_S = 900
LOGIN = re.compile(r"^\s+(admin|hr|candidate)\s+(\S+@\S+)\s+(\S+)\s*$")


class SmokeError(Exception):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Serve:
    """``./scripts/serve`` as a child process whose output is echoed and kept."""

    def __init__(self, venv: Path, data: Path, port: int) -> None:
        ours = ("VIVA_", "DATABASE_URL", "REDIS_URL")
        env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
        env.update(VIVA_VENV=str(venv), VIVA_DATA_DIR=str(data), PYTHONUNBUFFERED="1")
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [str(ROOT / "scripts" / "serve"), "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            print(f"  | {line.rstrip()}", flush=True)

    def kill(self, sig: int) -> int:
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
        return self.process.wait(timeout=60)


def request(url: str, data: dict[str, str] | None = None, token: str | None = None) -> tuple[int, bytes]:
    body = json.dumps(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body)
    if body is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_healthy(serve: Serve, base: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < INSTALL_TIMEOUT_S:
        if serve.process.poll() is not None:
            code = serve.process.returncode
            raise SmokeError(f"./scripts/serve exited with {code} before /healthz answered")
        try:
            if request(f"{base}/healthz")[0] == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.5)
    raise SmokeError(f"/healthz did not answer within {INSTALL_TIMEOUT_S} s")


def interrupt_install(venv: Path, data: Path) -> None:
    """Start serve and SIGKILL it once pip has begun writing packages into the new venv."""
    serve = Serve(venv, data, free_port())
    site = venv / "lib"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and serve.process.poll() is None:
        if len(list(site.glob("python3*/site-packages/*"))) > 20:  # pip is writing our packages
            break
        time.sleep(0.2)
    if serve.process.poll() is not None:
        raise SmokeError("the first install finished before it could be interrupted")
    serve.kill(signal.SIGKILL)
    if list(venv.glob(".viva-installed*")):
        raise SmokeError("an interrupted install left the 'installed' stamp behind")
    print("smoke: first install interrupted with SIGKILL; no stamp was written", flush=True)


def serve_and_sign_in(venv: Path, data: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = Serve(venv, data, port)
    try:
        seconds = wait_healthy(serve, base)
        print(f"smoke: /healthz answered {seconds:.0f} s after start", flush=True)
        logins = {m.group(1): (m.group(2), m.group(3)) for line in serve.lines if (m := LOGIN.match(line))}
        if "hr" not in logins:
            raise SmokeError("serve printed no HR demo login")
        email, password = logins["hr"]
        status, body = request(f"{base}/auth/login", {"email": email, "password": password})
        if status != 200:
            raise SmokeError(f"signing in as the printed HR login answered {status}")
        token = json.loads(body)["access_token"]
        status, body = request(f"{base}/auth/me", token=token)
        if status != 200 or json.loads(body).get("email") != email:
            raise SmokeError(f"/auth/me answered {status}")
        status, body = request(f"{base}/manage/")
        if status != 200 or b"<html" not in body.lower():
            raise SmokeError(f"/manage/ answered {status}")
        print(f"smoke: signed in as {email}, /auth/me and /manage/ answered 200", flush=True)
    finally:
        code = serve.kill(signal.SIGINT)
    if code != 0:
        raise SmokeError(f"serve exited with {code} on SIGINT")
    print("smoke: the server stopped cleanly on SIGINT", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="Prove ./scripts/serve on a fresh venv")
    parser.add_argument("--no-interrupt", action="store_true", help="skip the interrupted first install")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="viva-smoke-") as work:
        venv, data = Path(work) / "venv", Path(work) / "data"
        try:
            if not args.no_interrupt:
                interrupt_install(venv, data)
            serve_and_sign_in(venv, data)
        except SmokeError as error:
            print(f"smoke: FAILED: {error}", file=sys.stderr, flush=True)
            return 1
    print("smoke: ./scripts/serve works on a fresh venv", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
