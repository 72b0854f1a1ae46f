"""Failed logins are limited per account and per client address.

Counted in PostgreSQL, in a transaction of their own (a refused login rolls
the request's back), so every app process sees the same count. A subject
with LOGIN_MAX_FAILURES failures within LOGIN_FAILURE_WINDOW seconds is
refused until the oldest of them leaves the window.
"""

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import session_scope
from app.models import LoginFailure
from app.services.auth.errors import TooManyLoginAttempts


def account(email: str) -> str:
    return f"account:{email}"


def address(host: str) -> str:
    return f"address:{host}"


class LoginThrottle:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], max_failures: int, window: float) -> None:
        self.sessions = sessions
        self.max_failures = max_failures
        self.window = timedelta(seconds=window)

    async def check(self, subjects: list[str]) -> None:
        """Raise TooManyLoginAttempts if any subject has used up its failures."""
        since = datetime.now(UTC) - self.window
        statement = (
            select(func.min(LoginFailure.failed_at))
            .where(LoginFailure.subject.in_(subjects), LoginFailure.failed_at > since)
            .group_by(LoginFailure.subject)
            .having(func.count() >= self.max_failures)
        )
        async with session_scope(self.sessions) as session:
            oldest = list(await session.scalars(statement))
        if oldest:
            free_at = min(oldest) + self.window
            raise TooManyLoginAttempts(max(1, math.ceil((free_at - datetime.now(UTC)).total_seconds())))

    async def failed(self, subjects: list[str]) -> None:
        since = datetime.now(UTC) - self.window
        async with session_scope(self.sessions) as session:
            # What has left the window is forgotten as new failures come.
            await session.execute(
                delete(LoginFailure).where(
                    LoginFailure.subject.in_(subjects), LoginFailure.failed_at <= since
                )
            )
            await session.execute(insert(LoginFailure), [{"subject": subject} for subject in subjects])

    async def succeeded(self, subject: str) -> None:
        async with session_scope(self.sessions) as session:
            await session.execute(delete(LoginFailure).where(LoginFailure.subject == subject))
