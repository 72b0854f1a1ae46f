"""Which browser origins may call the Agent Server API (`/langgraph`)."""

from functools import lru_cache
from typing import Annotated

from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class CorsSettings(BaseSettings):
    """`CORS_ALLOW_ORIGINS`, as the LangGraph Agent Server names and reads it:
    origins separated by commas, `*` (its default) for any. UIs such as
    agent-chat-ui run on an origin of their own and send their key as a
    header, never a cookie, so a page on another origin gains nothing the
    key does not already give. The chat API stays same-origin."""

    model_config = SettingsConfigDict(env_prefix="CORS_", env_file=".env", extra="ignore")

    allow_origins: Annotated[list[str], NoDecode] = ["*"]

    @field_validator("allow_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value


@lru_cache
def get_cors_settings() -> CorsSettings:
    return CorsSettings()
