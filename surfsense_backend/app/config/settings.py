"""Application settings: where the database is, how the app is served."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The repository's own langgraph.json: it declares the built-in graphs.
REPOSITORY_GRAPHS = Path(__file__).resolve().parents[3] / "langgraph.json"


class Settings(BaseSettings):
    """Process-wide settings read from the environment (and `.env`)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # None means: start the embedded PostgreSQL under `data_dir`.
    database_url: SecretStr | None = None
    environment: Literal["development", "test", "production"] = "development"
    secret_key: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Worker processes `make run` serves with; runs live in PostgreSQL, so
    # any worker streams, joins, queues behind or cancels any run.
    web_concurrency: int = Field(default=1, ge=1)
    data_dir: Path = Path(".data")
    # SQLAlchemy's pool; together with PERSISTENCE_POOL_MAX_SIZE it must stay
    # under the server's max_connections.
    db_pool_size: int = Field(default=5, ge=1)
    db_max_overflow: int = Field(default=5, ge=0)
    db_pool_timeout: float = Field(default=20.0, gt=0)
    # Off by default: safe behind PgBouncer in transaction mode. On a direct
    # connection, true lets asyncpg cache prepared statements (faster).
    db_prepared_statements: bool = False

    # /metrics answers only a bearer of this token; unset, it is not served at all.
    metrics_token: SecretStr | None = None
    access_token_lifetime: int = Field(default=7 * 24 * 3600, ge=60)
    # Failed logins allowed per account and per client address within the window.
    login_max_failures: int = Field(default=10, ge=1)
    login_failure_window: float = Field(default=900.0, gt=0)
    # A run is held by its process under a lease it renews every poll
    # interval; a run whose lease ran out (its process died) is marked
    # interrupted within a lease and a quarter, and its conversation is free.
    chat_run_lease: float = Field(default=10.0, ge=1)
    # How often a process renews its leases and reads cancels (a cancel stops
    # a run within this), and how often a stream of another process's run polls.
    chat_poll_interval: float = Field(default=0.5, gt=0, le=5)
    # How often each process looks for due crons. A due cron fires once
    # whichever process sees it; this is how late after its time it may fire.
    cron_poll_interval: float = Field(default=5.0, gt=0, le=300)
    # An idle stream sends an SSE comment this often, so proxies keep it open.
    stream_heartbeat: float = Field(default=15.0, gt=0)
    # How often a streaming reply's text so far is stored, for readers who
    # reload mid-answer: one UPDATE per run per interval.
    chat_progress_interval: float = Field(default=0.25, gt=0)
    # The latest messages the agent's state keeps and its model sees, 0 for
    # all; the history API serves the whole conversation either way.
    chat_context_messages: int = Field(default=100, ge=0)
    # Off (CHAT_MEMORY=off), the app's own agents run without the user's
    # long-term memory: the chat agent neither recalls nor remembers, and its
    # replies say nothing of memory. The store, its routes and the graphs of
    # your own langgraph.json keep it either way.
    chat_memory: bool = True
    # The langgraph.json whose graphs the app serves (the LangGraph CLI's
    # format). Not LANGGRAPH_CONFIG: the Agent Server reads that name as
    # per-graph config in JSON, not as a path.
    langgraph_json: Path = REPOSITORY_GRAPHS
    # The text search configuration messages are indexed in (`simple`: every
    # language, as words, no stemming). Changing it: `surfsense-db search-reindex`.
    search_language: str = Field(default="simple", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    # A request body over this is refused (413) before it is read: room for
    # a message of PERSISTENCE_MAX_MESSAGE_BYTES (images, files inline) and
    # the JSON around it, as a reverse proxy's client_max_body_size would be.
    max_request_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> "Settings":
        if self.environment == "production":
            if self.secret_key is None:
                raise ValueError("SECRET_KEY is required when ENVIRONMENT=production")
            if self.database_url is None:
                raise ValueError("DATABASE_URL is required when ENVIRONMENT=production")
        if self.chat_poll_interval * 3 > self.chat_run_lease:
            # Renewed at least three times per lease: one slow renewal loses nothing.
            raise ValueError("CHAT_RUN_LEASE must be at least three CHAT_POLL_INTERVALs")
        if self.chat_context_messages == 1:
            # A window of one would hold the reply without the message it answers.
            raise ValueError("CHAT_CONTEXT_MESSAGES must be 0 (all) or at least 2")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
