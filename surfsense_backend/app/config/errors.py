"""A settings error as the operator wrote it: the variable's name, in one line."""

from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings

from app.config.llm import LLMSettings
from app.config.persistence import PersistenceConfig
from app.config.settings import Settings

_SETTINGS: dict[str, type[BaseSettings]] = {
    cls.__name__: cls for cls in (Settings, PersistenceConfig, LLMSettings)
}


def _is_secret(settings: type[BaseSettings] | None, field: str) -> bool:
    info = settings.model_fields.get(field) if settings else None
    return info is None or SecretStr in getattr(info.annotation, "__args__", (info.annotation,))


def describe_settings_error(exc: ValidationError) -> str:
    """`PORT: Input should be a valid integer (got 'abc')`, a clause per error;
    a secret's value is never repeated."""
    settings = _SETTINGS.get(exc.title)
    prefix = str(settings.model_config.get("env_prefix", "")) if settings else ""
    clauses = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(part) for part in error["loc"])
        if not field:  # a rule across fields names them in its message
            clauses.append(error["msg"].removeprefix("Value error, "))
            continue
        given = "" if _is_secret(settings, field) else f" (got {error['input']!r})"
        clauses.append(f"{prefix}{field}".upper() + f": {error['msg']}{given}")
    return "; ".join(clauses)
