"""Settings of the persistence layer (environment prefix `PERSISTENCE_`)."""

from functools import lru_cache
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class PersistenceConfig(BaseSettings):
    """How the checkpoint saver pools, retries, keeps history and fails."""

    model_config = SettingsConfigDict(env_prefix="PERSISTENCE_", env_file=".env", extra="ignore")

    enable_checkpointing: bool = True
    fallback: Literal["fail", "memory"] = "fail"
    max_checkpoint_history: int = Field(default=1000, ge=1)
    checkpoint_cleanup_interval: float = Field(default=3600.0, gt=0)
    checkpointer_cleanup_timeout: float = Field(default=5.0, gt=0)
    # Threads one sweep prunes at most; the rest wait for the next sweep.
    retention_batch_threads: int = Field(default=500, ge=1)
    # Archived conversations older than this are deleted by the sweeper; unset keeps them.
    archive_ttl_days: float | None = Field(default=None, gt=0)
    # A run's stored events (for replays and reconnects) are swept this long after it ends.
    run_events_ttl_hours: float = Field(default=24.0, gt=0)

    pool_min_size: int = Field(default=1, ge=0)
    pool_max_size: int = Field(default=10, ge=1)
    pool_timeout: float = Field(default=20.0, gt=0)
    pool_max_idle: float = Field(default=300.0, gt=0)
    pool_max_lifetime: float = Field(default=1800.0, gt=0)
    connect_timeout: int = Field(default=10, ge=1)
    # None disables server-side prepared statements: the only setting that
    # works behind PgBouncer in transaction mode, hence the default.
    prepare_threshold: int | None = None

    retry_attempts: int = Field(default=5, ge=1)
    retry_base_delay: float = Field(default=0.2, gt=0)
    retry_max_delay: float = Field(default=5.0, gt=0)

    # A message's text (what is searched, and what a model reads), and the
    # whole message with its content blocks (images, files inline as base64).
    max_message_chars: int = Field(default=100_000, ge=1)
    max_message_bytes: int = Field(default=8 * 1024 * 1024, ge=1)

    @field_validator("prepare_threshold", mode="before")
    @classmethod
    def _empty_disables(cls, value: object) -> object:
        if isinstance(value, str) and value.strip() == "":
            return None
        return value

    @field_validator("pool_max_size")
    @classmethod
    def _max_not_below_min(cls, value: int, info: ValidationInfo) -> int:
        if value < info.data.get("pool_min_size", 0):
            raise ValueError("PERSISTENCE_POOL_MAX_SIZE must be >= PERSISTENCE_POOL_MIN_SIZE")
        return value


@lru_cache
def get_persistence_config() -> PersistenceConfig:
    return PersistenceConfig()
