"""Settings, one class per concern, each with a cached accessor."""

from app.config.dsn import psycopg_conninfo, sqlalchemy_url
from app.config.persistence import PersistenceConfig, get_persistence_config
from app.config.settings import Settings, get_settings

__all__ = [
    "PersistenceConfig",
    "Settings",
    "get_persistence_config",
    "get_settings",
    "psycopg_conninfo",
    "sqlalchemy_url",
]
