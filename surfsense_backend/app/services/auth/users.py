"""Users and access tokens, with fastapi-users on our own `users` table."""

import uuid
from typing import Annotated

from fastapi import Depends, Request
from fastapi_users import BaseUserManager, FastAPIUsers, InvalidPasswordException, UUIDIDMixin, exceptions
from fastapi_users.authentication import AuthenticationBackend, BearerTransport
from fastapi_users.schemas import BaseUserCreate, BaseUserUpdate
from fastapi_users_db_sqlalchemy import SQLAlchemyUserDatabase
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.config import get_settings
from app.db.session import SessionDep
from app.models import User
from app.services.auth.emails import normalize_email
from app.services.auth.tokens import DatabaseTokenStrategy

MIN_PASSWORD_LENGTH = 8


class UserDatabase(SQLAlchemyUserDatabase[User, uuid.UUID]):
    async def get_by_email(self, email: str) -> User | None:
        # Exact, on the normalised spelling: the unique index answers it.
        return await self._get_user(select(User).where(User.email == normalize_email(email)))


# Plain returns, not yields: they borrow the request's session and own nothing.
async def get_user_db(session: SessionDep) -> UserDatabase:
    return UserDatabase(session, User)


class UserManager(UUIDIDMixin, BaseUserManager[User, uuid.UUID]):
    async def validate_password(self, password: str, user: BaseUserCreate | User) -> None:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidPasswordException(f"Password must have at least {MIN_PASSWORD_LENGTH} characters.")

    async def create(
        self, user_create: BaseUserCreate, safe: bool = False, request: Request | None = None
    ) -> User:
        # One spelling per address, so the unique index also catches a race
        # between two registrations that differ only in case.
        user_create.email = normalize_email(user_create.email)
        try:
            return await super().create(user_create, safe, request)
        except IntegrityError as exc:
            raise exceptions.UserAlreadyExists from exc

    async def update(
        self, user_update: BaseUserUpdate, user: User, safe: bool = False, request: Request | None = None
    ) -> User:
        if user_update.email is not None:
            user_update.email = normalize_email(user_update.email)
        return await super().update(user_update, user, safe, request)


async def get_user_manager(
    request: Request, user_db: Annotated[UserDatabase, Depends(get_user_db)]
) -> UserManager:
    manager = UserManager(user_db)
    manager.reset_password_token_secret = request.app.state.secret_key
    manager.verification_token_secret = request.app.state.secret_key
    return manager


async def get_token_strategy(session: SessionDep) -> DatabaseTokenStrategy:
    return DatabaseTokenStrategy(session, get_settings().access_token_lifetime)


auth_backend = AuthenticationBackend[User, uuid.UUID](
    name="db",
    transport=BearerTransport(tokenUrl="auth/jwt/login"),
    get_strategy=get_token_strategy,
)
fastapi_users = FastAPIUsers[User, uuid.UUID](get_user_manager, [auth_backend])

CurrentUser = Annotated[User, Depends(fastapi_users.current_user(active=True))]
CurrentUserToken = Annotated[
    tuple[User, str], Depends(fastapi_users.authenticator.current_user_token(active=True))
]


async def _caller_outside_transaction(user: CurrentUser, session: SessionDep) -> User:
    # The request's transaction ends with the authentication: a route that
    # starts, waits on or cancels a run does that in units of work of its own
    # and holds no connection while the run goes on.
    await session.commit()
    return user


# The caller, for the routes that start, wait on or cancel a run.
RunCaller = Annotated[User, Depends(_caller_outside_transaction)]
