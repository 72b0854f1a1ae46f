"""Settings of the long-term memory store (environment prefix `STORE_`)."""

from functools import lru_cache
from typing import Annotated, Any, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


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
    # wheel (offline); `provider:model` is any LangChain embeddings by name
    # (`openai:text-embedding-3-small`, as LangChain's init_embeddings takes
    # it), of `embeddings_dims` dimensions, built with `embeddings_options`
    # (JSON: base_url, check_embedding_ctx_length, ...); `none` searches by
    # filters and recency only. Vectors need pgvector on the server.
    embeddings: str = "local"
    embeddings_dims: int | None = Field(default=None, ge=1, le=16_000)
    embeddings_options: dict[str, Any] = Field(default_factory=dict)
    # The value fields embedded when a put names none (LangGraph's index
    # `fields`, JSON paths); None: the whole value.
    index_fields: list[str] | None = None
    # Expired items one retention sweep deletes at most.
    sweep_batch: int = Field(default=10_000, ge=1)
    # The first labels of the app's own namespaces, separated by commas
    # ("handbook,policies"): users and graphs read the items there, only the
    # operator writes them (`surfsense-db store-load`). None by default.
    shared_namespaces: Annotated[frozenset[str], NoDecode] = frozenset()

    @field_validator("shared_namespaces", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            value = [label.strip() for label in value.split(",") if label.strip()]
        for label in value if isinstance(value, list | tuple | set | frozenset) else ():
            if not isinstance(label, str) or not label or "." in label:
                raise ValueError(f"STORE_SHARED_NAMESPACES: {label!r} is not a namespace label")
        return value

    @model_validator(mode="after")
    def _named_model_has_dims(self) -> Self:
        if self.embeddings not in ("local", "none"):
            provider, colon, model = self.embeddings.partition(":")
            if not colon or not provider or not model:
                raise ValueError(
                    f"STORE_EMBEDDINGS={self.embeddings!r}: expected local, none or provider:model"
                )
            if self.embeddings_dims is None:
                raise ValueError(f"STORE_EMBEDDINGS={self.embeddings!r} needs STORE_EMBEDDINGS_DIMS")
        return self


@lru_cache
def get_store_settings() -> StoreSettings:
    return StoreSettings()
