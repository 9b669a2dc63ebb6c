"""Password hashing (argon2), JWT access tokens (PyJWT) and login throttling (limits)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import ConnectionPool

from server.domain.errors import NotAuthenticated, TooManyRequests

ALGORITHM = "HS256"
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """A hash to verify against when the account does not exist, so timing does not reveal which emails
    exist (made on first use: nothing is hashed at import)."""
    return _hasher.hash("viva-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; always spends one argon2 verification, even for unknown accounts."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    role: str
    version: int


class TokenService:
    def __init__(self, key: str, ttl: timedelta) -> None:
        self._key = key
        self.ttl = ttl

    def issue(self, user_id: str, role: str, version: int) -> str:
        now = datetime.now(UTC)
        claims = {
            "sub": user_id,
            "role": role,
            "ver": version,
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def verify(self, token: str) -> TokenClaims:
        """Decode and check signature and expiry; raises NotAuthenticated for anything wrong."""
        try:
            claims = jwt.decode(
                token, self._key, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "iat"]}
            )
        except jwt.ExpiredSignatureError as exc:
            raise NotAuthenticated("Token has expired") from exc
        except jwt.PyJWTError as exc:
            raise NotAuthenticated("Invalid token") from exc
        try:
            return TokenClaims(str(claims["sub"]), str(claims.get("role", "")), int(claims.get("ver", 0)))
        except (TypeError, ValueError) as exc:
            raise NotAuthenticated("Invalid token") from exc


class LoginThrottle:
    """Counts failed logins per account and per client address in a moving window.

    Call ``check`` before verifying a password and ``failed`` after a wrong one; ``succeeded`` clears the
    account's counter.
    """

    def __init__(
        self,
        storage: Storage,
        per_account: int,
        per_address: int,
        window_s: int,
        pool: ConnectionPool | None = None,
    ) -> None:
        self._storage = storage
        self._pool = pool
        self._limiter = MovingWindowRateLimiter(storage)
        self._account = RateLimitItemPerSecond(per_account, window_s)
        self._address = RateLimitItemPerSecond(per_address, window_s)

    @classmethod
    def create(
        cls, redis_url: str | None, prefix: str, per_account: int, per_address: int, window_s: int
    ) -> LoginThrottle:
        if not redis_url:
            return cls(MemoryStorage(), per_account, per_address, window_s)
        pool = ConnectionPool.from_url(redis_url)
        uri = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
        # limits' option types say scalars, but it hands ``connection_pool`` to redis-py as documented.
        options: dict[str, Any] = {"connection_pool": pool}
        storage = RedisStorage(uri, implementation="redispy", key_prefix=f"{prefix}login", **options)
        return cls(storage, per_account, per_address, window_s, pool)

    async def check(self, account: str, address: str) -> None:
        for item, key in ((self._account, account.lower()), (self._address, address)):
            if not await self._limiter.test(item, "login", key):
                stats = await self._limiter.get_window_stats(item, "login", key)
                retry = max(1, int(stats.reset_time - datetime.now(UTC).timestamp()))
                raise TooManyRequests(
                    "Too many failed login attempts. Try again later.", details={"retry_after": retry}
                )

    async def failed(self, account: str, address: str) -> None:
        await self._limiter.hit(self._account, "login", account.lower())
        await self._limiter.hit(self._address, "login", address)

    async def succeeded(self, account: str) -> None:
        await self._limiter.clear(self._account, "login", account.lower())

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
