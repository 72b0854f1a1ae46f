"""Settings of the long-term memory store (environment prefix `STORE_`)."""

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class StoreSettings(BaseSettings):
    """LangGraph's `TTLConfig`, and the bounds on what one item may hold."""

    model_config = SettingsConfigDict(env_prefix="STORE_", env_file=".env", extra="ignore")

    # Minutes an item lives after its last write (or read, with refresh_on_read);
    # None: items live until deleted, unless a put gives a ttl of its own.
    default_ttl: float | None = Field(default=None, gt=0)
    refresh_on_read: bool = True
    # A value's size as JSON, and how many labels a namespace may have.
    max_value_bytes: int = Field(default=1024 * 1024, ge=1)
    max_namespace_depth: int = Field(default=16, ge=1)
    # The most items one search or namespace listing returns.
    max_limit: int = Field(default=1000, ge=1)
    # Search by meaning: `local` embeds with the model bundled in the wordllama
    # wheel (offline); `none` searches by filters and recency only. Either
    # way, vectors need pgvector on the server.
    embeddings: Literal["local", "none"] = "local"
    # Expired items one retention sweep deletes at most.
    sweep_batch: int = Field(default=10_000, ge=1)


@lru_cache
def get_store_settings() -> StoreSettings:
    return StoreSettings()
