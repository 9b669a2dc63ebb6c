"""Which email addresses are free. An address, or one that looks like it (the same UTS #39 skeleton, see
``server.store.emails``), belongs to at most one account and at most one pool entry: a look-alike is refused
the way a duplicate is (400, ``details.email``)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from server.domain.errors import InvalidInput
from server.store import candidates, users


async def check_account_email(session: AsyncSession, email: str, *, candidate: bool) -> None:
    """Refuse a new account's ``email`` (normalised) that an account has or that looks like an account's.

    A candidate account also gets a pool entry: it takes over the entry with this very address, and is
    refused when another entry's address only looks like it."""
    account = await users.look_alike(session, email)
    if account is not None:
        same = account.email == email
        reason = "Email already registered" if same else "An email that looks the same is already registered"
        raise InvalidInput("Email already registered", details={"email": [reason]})
    if candidate:
        pooled = await candidates.by_email(session, email)
        await check_pool_email(session, email, other_than=pooled.id if pooled else None)


async def check_pool_email(session: AsyncSession, email: str, *, other_than: str | None = None) -> None:
    """Refuse a pool ``email`` (normalised) that another entry has, or that looks like another entry's."""
    entry = await candidates.look_alike(session, email, other_than=other_than)
    if entry is not None:
        same = entry.email == email
        reason = (
            "A candidate with this email exists"
            if same
            else "A candidate with an email that looks the same exists"
        )
        raise InvalidInput("Email already in the pool", details={"email": [reason]})
