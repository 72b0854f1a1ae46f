"""Settings, one class per concern, each with a cached accessor."""

from app.config.cors import CorsSettings, get_cors_settings
from app.config.dsn import psycopg_conninfo, sqlalchemy_url
from app.config.errors import describe_settings_error
from app.config.llm import LLMSettings, get_llm_settings
from app.config.persistence import PersistenceConfig, get_persistence_config
from app.config.settings import Settings, get_settings
from app.config.store import StoreSettings, get_store_settings

__all__ = [
    "CorsSettings",
    "LLMSettings",
    "PersistenceConfig",
    "Settings",
    "StoreSettings",
    "describe_settings_error",
    "get_cors_settings",
    "get_llm_settings",
    "get_persistence_config",
    "get_settings",
    "get_store_settings",
    "psycopg_conninfo",
    "sqlalchemy_url",
]
