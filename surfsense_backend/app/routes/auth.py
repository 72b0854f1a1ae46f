"""Registration, login, logout and the caller's own user.

Our routes over fastapi-users' user manager, so every answer has the app's
error shape and status, which OpenAPI then shows as it is.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from fastapi_users import exceptions
from fastapi_users.schemas import BaseUserCreate

from app.schemas.errors import error_responses
from app.schemas.text import StoredText
from app.schemas.users import TokenOut, UserCreate, UserRead
from app.services.auth import throttle
from app.services.auth.emails import normalize_email
from app.services.auth.errors import BadCredentials, InvalidPassword, UserAlreadyExists
from app.services.auth.tokens import DatabaseTokenStrategy
from app.services.auth.users import (
    CurrentUser,
    CurrentUserToken,
    UserManager,
    get_token_strategy,
    get_user_manager,
)

router = APIRouter()

Manager = Annotated[UserManager, Depends(get_user_manager)]
Strategy = Annotated[DatabaseTokenStrategy, Depends(get_token_strategy)]


@router.post(
    "/auth/register", status_code=status.HTTP_201_CREATED, tags=["auth"], responses=error_responses(409, 422)
)
async def register(body: UserCreate, manager: Manager, request: Request) -> UserRead:
    create = BaseUserCreate(email=body.email, password=body.password)
    try:
        user = await manager.create(create, safe=True, request=request)
    except exceptions.UserAlreadyExists as exc:
        raise UserAlreadyExists from exc
    except exceptions.InvalidPasswordException as exc:
        raise InvalidPassword(str(exc.reason)) from exc
    return UserRead.model_validate(user, from_attributes=True)


@router.post("/auth/jwt/login", tags=["auth"], responses=error_responses(400, 422, 429))
async def login(
    username: Annotated[StoredText, Form(max_length=320)],
    password: Annotated[StoredText, Form(max_length=1024)],
    request: Request,
    manager: Manager,
    strategy: Strategy,
) -> TokenOut:
    """OAuth2's password form (`username` is the email); 429 with `Retry-After`
    after too many failures for the account or the client's address."""
    limiter: throttle.LoginThrottle = request.app.state.login_throttle
    subjects = [throttle.account(normalize_email(username))]
    if request.client is not None:
        subjects.append(throttle.address(request.client.host))
    await limiter.check(subjects)
    user = await manager.authenticate(OAuth2PasswordRequestForm(username=username, password=password))
    if user is None or not user.is_active:
        await limiter.failed(subjects)
        raise BadCredentials
    await limiter.succeeded(subjects[0])
    return TokenOut(access_token=await strategy.write_token(user))


@router.post(
    "/auth/jwt/logout", status_code=status.HTTP_204_NO_CONTENT, tags=["auth"], responses=error_responses(401)
)
async def logout(user_token: CurrentUserToken, strategy: Strategy) -> Response:
    """Ends this token at once."""
    user, token = user_token
    await strategy.destroy_token(token, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/users/me", tags=["users"], responses=error_responses(401))
async def me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user, from_attributes=True)
