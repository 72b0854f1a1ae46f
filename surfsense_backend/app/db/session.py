"""Request-scoped dependencies: one session and one transaction per request."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import session_scope


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Commit when the route returns, roll back when it raises.

    Used with scope="function", so the commit happens before the response is
    sent: a client never sees a 2xx for work that was then rolled back.
    """
    async with session_scope(request.app.state.sessionmaker) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
