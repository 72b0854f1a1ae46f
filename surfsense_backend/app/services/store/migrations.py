"""The LangGraph store's schema as Alembic operations, and the owner column.

The DDL below is what `langgraph-checkpoint-postgres` runs in
`AsyncPostgresStore.setup()` (its store `MIGRATIONS`, versions 0 to 3),
frozen so that an Alembic revision means the same thing forever; recording
each version in `store_migrations` makes the stock `setup()` a no-op. A store
release that adds a migration fails `tests/migrations`, and the new statement
goes into a new constant and a new revision. As for the saver's tables,
`CREATE INDEX CONCURRENTLY` becomes a plain `CREATE INDEX`: Alembic runs a
revision in one transaction, and the table is created empty in it.

The vector tables (`store_vectors`, `vector_migrations`) are the stock
store's vector migrations as its setup() renders them for this app's index
(256 dimensions: the bundled embedding model's; cosine distance; HNSW),
created only where the server has pgvector: without it the store searches
by filters and recency, and says so at start-up.
"""

from collections.abc import Callable, Sequence

STORE_MIGRATIONS_V3: Sequence[str] = (
    """CREATE TABLE IF NOT EXISTS store (
    -- 'prefix' represents the doc's 'namespace'
    prefix text NOT NULL,
    key text NOT NULL,
    value jsonb NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (prefix, key)
);""",
    """-- For faster lookups by prefix
CREATE INDEX IF NOT EXISTS store_prefix_idx ON store USING btree (prefix text_pattern_ops);""",
    """-- Add expires_at column to store table
ALTER TABLE store
ADD COLUMN IF NOT EXISTS expires_at TIMESTAMP WITH TIME ZONE,
ADD COLUMN IF NOT EXISTS ttl_minutes INT;""",
    """-- Add indexes for efficient TTL sweeping
CREATE INDEX IF NOT EXISTS idx_store_expires_at ON store (expires_at)
WHERE expires_at IS NOT NULL;""",
)

STORE_TABLES = ("store", "store_migrations")

EMBEDDING_DIMS = 256

VECTOR_MIGRATIONS_V2: Sequence[str] = (
    """DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') THEN
        CREATE EXTENSION vector;
    END IF;
END $$;""",
    f"""CREATE TABLE IF NOT EXISTS store_vectors (
    prefix text NOT NULL,
    key text NOT NULL,
    field_name text NOT NULL,
    embedding vector({EMBEDDING_DIMS}),
    created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (prefix, key, field_name),
    FOREIGN KEY (prefix, key) REFERENCES store(prefix, key) ON DELETE CASCADE
);""",
    """CREATE INDEX IF NOT EXISTS store_vectors_embedding_idx ON store_vectors
    USING hnsw (embedding vector_cosine_ops);""",
)

# Present only where pgvector is: Alembic's comparison leaves them out.
VECTOR_TABLES = ("store_vectors", "vector_migrations")

PGVECTOR_AVAILABLE = "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"


def create_store_schema(execute: Callable[[str], object], migrations: Sequence[str]) -> None:
    """Run the store's migrations and record each, as its setup() would."""
    execute("CREATE TABLE IF NOT EXISTS store_migrations (v INTEGER PRIMARY KEY)")
    for version, statement in enumerate(migrations):
        execute(statement)
        execute(f"INSERT INTO store_migrations (v) VALUES ({version:d}) ON CONFLICT DO NOTHING")  # noqa: S608


def create_vector_schema(execute: Callable[[str], object], migrations: Sequence[str]) -> None:
    """Run the store's vector migrations and record each, as its setup() would."""
    execute("CREATE TABLE IF NOT EXISTS vector_migrations (v INTEGER PRIMARY KEY)")
    for version, statement in enumerate(migrations):
        execute(statement)
        execute(f"INSERT INTO vector_migrations (v) VALUES ({version:d}) ON CONFLICT DO NOTHING")  # noqa: S608


# Every namespace the app stores begins with its owner's id (app/services/store
# scopes them so), and the owner is read from it for every writer: the stock
# store's SQL, which knows no owner, included. A prefix that does not begin
# with a user id fails the cast, so no row is stored without an owner.
OWNER_FUNCTION = """
CREATE FUNCTION store_fill_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.user_id := split_part(NEW.prefix, '.', 1)::uuid;
    RETURN NEW;
END $$;
"""

OWNER_TRIGGER = """CREATE TRIGGER store_fill_owner BEFORE INSERT ON store
       FOR EACH ROW EXECUTE FUNCTION store_fill_owner()"""

# 0018: the app's own items (STORE_SHARED_NAMESPACES, written by the
# operator) are stored under the first label APP_OWNER, which no user id
# can be, and have no user: nothing cascades to them. Every row still has
# a known owner kind: a user's id, or the app's label (the check).
APP_OWNER = "app"

OWNER_FUNCTION_V2 = f"""
CREATE OR REPLACE FUNCTION store_fill_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF split_part(NEW.prefix, '.', 1) = '{APP_OWNER}' THEN
        NEW.user_id := NULL;
    ELSE
        NEW.user_id := split_part(NEW.prefix, '.', 1)::uuid;
    END IF;
    RETURN NEW;
END $$;
"""

OWNER_KIND_CHECK = f"(user_id IS NULL) = (split_part(prefix, '.', 1) = '{APP_OWNER}')"

DROP_OWNER = (
    "DROP TRIGGER IF EXISTS store_fill_owner ON store",
    "DROP FUNCTION IF EXISTS store_fill_owner()",
)

# 0019: the owner's vectors found by their prefix (a search by meaning
# without a filter reads them in one index range), as the stock store's
# own `store_prefix_idx` finds items: text_pattern_ops serves `LIKE 'x.%'`
# under any collation.
VECTORS_PREFIX_INDEX = """CREATE INDEX IF NOT EXISTS store_vectors_prefix_idx ON store_vectors
    USING btree (prefix text_pattern_ops);"""
