"""The chat model named by the settings."""

from langchain_core.language_models import BaseChatModel

from app.agents.local_model import LocalChatModel
from app.config.llm import LLMSettings


def create_chat_model(settings: LLMSettings) -> BaseChatModel:
    if settings.llm_provider == "local":
        return LocalChatModel(token_delay=settings.local_token_delay)

    # Imported here: only deployments that use OpenAI pay for loading it.
    from langchain_openai import ChatOpenAI  # noqa: PLC0415

    return ChatOpenAI(
        model=settings.llm_model,
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url,
        streaming=True,
    )
