"""What the store's tests share: a new committed user's store, from the
`app_store` each module opens as it needs it."""

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.services.store import AppStore, UserStore
from tests.factories import new_user

MakeStore = Callable[[], Awaitable[UserStore]]


@pytest.fixture
def user_store(app_store: AppStore, committed: async_sessionmaker[AsyncSession]) -> MakeStore:
    """A new committed user's store (the user and their items are deleted after)."""

    async def make() -> UserStore:
        async with committed() as s:
            user = new_user()
            s.add(user)
            await s.commit()
        return app_store.for_user(user.id)

    return make
