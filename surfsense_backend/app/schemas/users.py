"""Users and their tokens as the API shows them."""

import uuid
from typing import Literal

from fastapi_users import schemas
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from app.schemas.text import StoredText


class UserRead(schemas.BaseUser[uuid.UUID]):
    pass


class UserCreate(BaseModel):
    """Only what a person registers with: the flags are the server's to set."""

    model_config = ConfigDict(extra="forbid")

    email: EmailStr = Field(max_length=320)
    password: StoredText = Field(max_length=1024)


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme's name, not a secret
