"""Which chat model the agents call."""

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class LLMSettings(BaseSettings):
    """`local` needs no network and answers deterministically; `openai` speaks to
    OpenAI or any compatible server (`OPENAI_BASE_URL`)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    llm_provider: Literal["local", "openai"] = "local"
    llm_model: str = "gpt-4o-mini"
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    # Seconds between the local model's tokens: enough to watch a reply stream in.
    local_token_delay: float = Field(default=0.03, ge=0, le=5)

    @model_validator(mode="after")
    def _openai_needs_a_key(self) -> "LLMSettings":
        if self.llm_provider == "openai" and self.openai_api_key is None:
            raise ValueError("OPENAI_API_KEY is required when LLM_PROVIDER=openai")
        return self


@lru_cache
def get_llm_settings() -> LLMSettings:
    return LLMSettings()
