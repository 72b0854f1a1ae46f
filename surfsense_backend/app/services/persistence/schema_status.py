"""Is the database at the schema this code expects? Alembic's head, LangGraph's version."""

from alembic.config import Config
from alembic.script import ScriptDirectory
from langgraph.checkpoint.postgres.base import MIGRATIONS as SAVER_MIGRATIONS
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.migrate import ALEMBIC_INI
from app.services.persistence.errors import SchemaNotMigrated

_UPGRADE_HINT = "run `alembic upgrade head` (or `make migrate`)"


def alembic_heads() -> set[str]:
    """The head revision(s) of this checkout's migrations."""
    return set(ScriptDirectory.from_config(Config(ALEMBIC_INI)).get_heads())


async def current_revisions(conn: AsyncConnection) -> set[str]:
    """The revision(s) the database is at; empty when it was never migrated."""
    try:
        async with conn.begin_nested():
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
    except ProgrammingError:
        # 42P01: alembic_version does not exist yet.
        return set()
    return {row[0] for row in rows}


async def verify_schema(conn: AsyncConnection) -> str:
    """Return the current revision, or raise SchemaNotMigrated saying what to run."""
    current, expected = await current_revisions(conn), alembic_heads()
    if current != expected:
        found = ", ".join(sorted(current)) or "an empty schema"
        raise SchemaNotMigrated(
            f"Database is at {found} but this code needs {', '.join(sorted(expected))}: {_UPGRADE_HINT}."
        )
    saver_version = await conn.scalar(text("SELECT max(v) FROM checkpoint_migrations"))
    if saver_version != len(SAVER_MIGRATIONS) - 1:
        raise SchemaNotMigrated(
            f"LangGraph's checkpoint tables are at version {saver_version}, the installed saver "
            f"needs {len(SAVER_MIGRATIONS) - 1}: add a migration for it, then {_UPGRADE_HINT}."
        )
    return ", ".join(sorted(current))
