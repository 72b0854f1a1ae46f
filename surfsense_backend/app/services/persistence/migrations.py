"""LangGraph's schema as Alembic operations, and the triggers that tie it to ours.

Alembic owns every table. The DDL below is what `langgraph-checkpoint-postgres`
3.2 runs in `AsyncPostgresSaver.setup()` (its `MIGRATIONS` list, versions 0 to 9),
frozen here so that an Alembic revision means the same thing forever. Recording
each version in `checkpoint_migrations` makes the saver's own `setup()` a no-op.
When a new saver release adds a migration, `tests/.../test_migrations.py` fails
and the new statement goes into a new constant and a new Alembic revision.

The one change: `CREATE INDEX CONCURRENTLY` cannot run inside a transaction,
and Alembic runs each revision in one. The tables are created empty in the same
revision, so a plain `CREATE INDEX` gives the same index without the lock
problem CONCURRENTLY exists to avoid.
"""

from collections.abc import Callable, Sequence

LANGGRAPH_MIGRATIONS_V9: Sequence[str] = (
    """CREATE TABLE IF NOT EXISTS checkpoint_migrations (
    v INTEGER PRIMARY KEY
);""",
    """CREATE TABLE IF NOT EXISTS checkpoints (
    thread_id TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    checkpoint_id TEXT NOT NULL,
    parent_checkpoint_id TEXT,
    type TEXT,
    checkpoint JSONB NOT NULL,
    metadata JSONB NOT NULL DEFAULT '{}',
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
);""",
    """CREATE TABLE IF NOT EXISTS checkpoint_blobs (
    thread_id TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL,
    version TEXT NOT NULL,
    type TEXT NOT NULL,
    blob BYTEA,
    PRIMARY KEY (thread_id, checkpoint_ns, channel, version)
);""",
    """CREATE TABLE IF NOT EXISTS checkpoint_writes (
    thread_id TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    checkpoint_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    channel TEXT NOT NULL,
    type TEXT,
    blob BYTEA NOT NULL,
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
);""",
    "ALTER TABLE checkpoint_blobs ALTER COLUMN blob DROP not null;",
    "SELECT 1;",
    "CREATE INDEX IF NOT EXISTS checkpoints_thread_id_idx ON checkpoints(thread_id);",
    "CREATE INDEX IF NOT EXISTS checkpoint_blobs_thread_id_idx ON checkpoint_blobs(thread_id);",
    "CREATE INDEX IF NOT EXISTS checkpoint_writes_thread_id_idx ON checkpoint_writes(thread_id);",
    "ALTER TABLE checkpoint_writes ADD COLUMN IF NOT EXISTS task_path TEXT NOT NULL DEFAULT '';",
)

LANGGRAPH_TABLES = ("checkpoint_writes", "checkpoint_blobs", "checkpoints", "checkpoint_migrations")


def create_langgraph_schema(execute: Callable[[str], object], migrations: Sequence[str]) -> None:
    """Run LangGraph's migrations and record each, as the saver's setup() would."""
    for version, statement in enumerate(migrations):
        execute(statement)
        execute(f"INSERT INTO checkpoint_migrations (v) VALUES ({version:d}) ON CONFLICT DO NOTHING")  # noqa: S608


# Checkpoint rows are written by LangGraph's own SQL, which knows nothing of
# conversations. A trigger fills the ownership columns for every writer (our
# saver, the stock one, a script), at the cost of one primary-key lookup per row.
# Conversation ids are canonical UUID text; other thread ids are left unowned.
_UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

# A write that arrives after its conversation was deleted (a run still in
# flight) is dropped rather than stored as an orphan: `deleted_threads` holds
# a tombstone per deleted conversation.
_DROP_LATE_WRITE = """
    IF NEW.conversation_id IS NULL
       AND EXISTS (SELECT 1 FROM deleted_threads d WHERE d.thread_id = NEW.thread_id) THEN
        RETURN NULL;
    END IF;"""


def ownership_functions(*, drop_late_writes: bool) -> tuple[str, ...]:
    """The trigger functions; revision 0004 adds the tombstone check."""
    late = _DROP_LATE_WRITE if drop_late_writes else ""
    return (
        f"""
CREATE OR REPLACE FUNCTION checkpoints_fill_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.conversation_id IS NULL AND NEW.thread_id ~ '{_UUID_PATTERN}' THEN
        SELECT c.id, c.user_id, c.archived
          INTO NEW.conversation_id, NEW.user_id, NEW.archived
          FROM conversations c WHERE c.id = NEW.thread_id::uuid;
        NEW.archived := coalesce(NEW.archived, false);{late}
    END IF;
    RETURN NEW;
END $$;
""",  # noqa: S608 - fixed DDL built from constants
        f"""
CREATE OR REPLACE FUNCTION checkpoint_rows_fill_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.conversation_id IS NULL AND NEW.thread_id ~ '{_UUID_PATTERN}' THEN
        NEW.conversation_id := (SELECT c.id FROM conversations c WHERE c.id = NEW.thread_id::uuid);{late}
    END IF;
    RETURN NEW;
END $$;
""",  # noqa: S608 - fixed DDL built from constants
        # Links rows written before the conversation was committed (or before
        # it existed), and carries owner and archive flag over when they change.
        """
CREATE OR REPLACE FUNCTION conversations_sync_checkpoints() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM conversations WHERE id = NEW.id) THEN
        RETURN NULL;
    END IF;
    UPDATE checkpoints
       SET conversation_id = NEW.id, user_id = NEW.user_id, archived = NEW.archived
     WHERE thread_id = NEW.id::text
       AND (conversation_id IS NULL OR user_id IS DISTINCT FROM NEW.user_id
            OR archived IS DISTINCT FROM NEW.archived);
    UPDATE checkpoint_blobs SET conversation_id = NEW.id
     WHERE thread_id = NEW.id::text AND conversation_id IS NULL;
    UPDATE checkpoint_writes SET conversation_id = NEW.id
     WHERE thread_id = NEW.id::text AND conversation_id IS NULL;
    RETURN NULL;
END $$;
""",
    )


OWNERSHIP_TRIGGERS = (
    """CREATE TRIGGER checkpoints_fill_owner BEFORE INSERT ON checkpoints
       FOR EACH ROW EXECUTE FUNCTION checkpoints_fill_owner()""",
    """CREATE TRIGGER checkpoint_blobs_fill_conversation BEFORE INSERT ON checkpoint_blobs
       FOR EACH ROW EXECUTE FUNCTION checkpoint_rows_fill_conversation()""",
    """CREATE TRIGGER checkpoint_writes_fill_conversation BEFORE INSERT ON checkpoint_writes
       FOR EACH ROW EXECUTE FUNCTION checkpoint_rows_fill_conversation()""",
    # Deferred to commit, so rows the saver wrote (on its own connection) while
    # the conversation's transaction was open are linked too.
    """CREATE CONSTRAINT TRIGGER conversations_link_checkpoints AFTER INSERT ON conversations
       DEFERRABLE INITIALLY DEFERRED
       FOR EACH ROW EXECUTE FUNCTION conversations_sync_checkpoints()""",
    """CREATE TRIGGER conversations_sync_checkpoints AFTER UPDATE OF user_id, archived ON conversations
       FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id
                          OR OLD.archived IS DISTINCT FROM NEW.archived)
       EXECUTE FUNCTION conversations_sync_checkpoints()""",
)

TOMBSTONE_TRIGGER = (
    """
CREATE FUNCTION conversations_leave_tombstone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO deleted_threads (thread_id) VALUES (OLD.id::text) ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
""",
    """CREATE TRIGGER conversations_leave_tombstone AFTER DELETE ON conversations
       FOR EACH ROW EXECUTE FUNCTION conversations_leave_tombstone()""",
)

DROP_TOMBSTONE_TRIGGER = (
    "DROP TRIGGER IF EXISTS conversations_leave_tombstone ON conversations",
    "DROP FUNCTION IF EXISTS conversations_leave_tombstone()",
)

DROP_OWNERSHIP = (
    "DROP TRIGGER IF EXISTS conversations_sync_checkpoints ON conversations",
    "DROP TRIGGER IF EXISTS conversations_link_checkpoints ON conversations",
    "DROP TRIGGER IF EXISTS checkpoint_writes_fill_conversation ON checkpoint_writes",
    "DROP TRIGGER IF EXISTS checkpoint_blobs_fill_conversation ON checkpoint_blobs",
    "DROP TRIGGER IF EXISTS checkpoints_fill_owner ON checkpoints",
    "DROP FUNCTION IF EXISTS conversations_sync_checkpoints()",
    "DROP FUNCTION IF EXISTS checkpoint_rows_fill_conversation()",
    "DROP FUNCTION IF EXISTS checkpoints_fill_owner()",
)
