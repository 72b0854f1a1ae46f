"""Registration, login and the caller's own user (fastapi-users)."""

from fastapi import APIRouter

from app.schemas.errors import error_responses
from app.schemas.users import UserCreate, UserRead
from app.services.auth.users import CurrentUser, auth_backend, fastapi_users

router = APIRouter()
router.include_router(fastapi_users.get_register_router(UserRead, UserCreate), prefix="/auth", tags=["auth"])
router.include_router(fastapi_users.get_auth_router(auth_backend), prefix="/auth/jwt", tags=["auth"])


@router.get("/users/me", tags=["users"], responses=error_responses(401))
async def me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user, from_attributes=True)
