"""Running Alembic from the app (`make run`, the CLI, tests)."""

from pathlib import Path

from alembic import command
from alembic.config import Config

ALEMBIC_INI = Path(__file__).resolve().parents[3] / "alembic.ini"


def alembic_config(database_url: str) -> Config:
    """Alembic's config for this checkout, pointed at `database_url`."""
    config = Config(ALEMBIC_INI)
    config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    return config


def upgrade_to_head(database_url: str) -> None:
    """`alembic upgrade head`. Blocking: call it outside a running event loop."""
    command.upgrade(alembic_config(database_url), "head")
