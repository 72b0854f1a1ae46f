"""One DATABASE_URL, two drivers: the DSN each of them needs.

DATABASE_URL is written in SQLAlchemy's asyncpg form
(`postgresql+asyncpg://user:pass@host:port/db?...`), as SurfSense has it.
SQLAlchemy hands the URL's query to `asyncpg.connect()` as keyword arguments,
while psycopg wants a libpq conninfo, so each side gets its own translation.
"""

from typing import Any

from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import URL, make_url

# asyncpg-only keywords that libpq would reject as an invalid conninfo option.
_ASYNCPG_ONLY = frozenset(
    {
        "prepared_statement_cache_size",
        "statement_cache_size",
        "max_cached_statement_lifetime",
        "max_cacheable_statement_size",
        "command_timeout",
        "direct_tls",
        "timeout",
    }
)
_POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", "postgresql+psycopg", "postgresql+asyncpg"})


def parse_database_url(database_url: str) -> URL:
    """Parse a PostgreSQL URL in any common spelling, or raise ValueError."""
    url = make_url(database_url)
    if url.drivername not in _POSTGRES_SCHEMES:
        raise ValueError(f"DATABASE_URL must be a PostgreSQL URL, got scheme {url.drivername!r}")
    return url


def _unnamed_statement() -> str:
    """The unnamed statement: asyncpg Parses it again in the same message as
    its Bind and Execute, so a pooler may run it on any server connection, and
    it needs no Close. A named one cost a third round trip, its Close, on the
    connection's next statement: about a sixth of a chat turn's CPU in W8."""
    return ""


def sqlalchemy_url(database_url: str, *, prepared_statements: bool = False) -> tuple[URL, dict[str, Any]]:
    """The URL and `connect_args` SQLAlchemy's asyncpg dialect connects with.

    asyncpg spells libpq's `sslmode` as `ssl` and takes `application_name`
    only inside `server_settings`. Without `prepared_statements` (the default)
    no statement is cached and each is the unnamed one, which is what works
    behind PgBouncer in transaction mode, where a connection's next transaction
    may run on another server connection that never saw the statement.
    """
    url = parse_database_url(database_url).set(drivername="postgresql+asyncpg")
    query = dict(url.query)
    connect_args: dict[str, Any] = {}
    if not prepared_statements:
        connect_args.update(
            statement_cache_size=0,
            prepared_statement_cache_size=0,
            prepared_statement_name_func=_unnamed_statement,
        )

    if "sslmode" in query:
        query.setdefault("ssl", query.pop("sslmode"))
    if "application_name" in query:
        connect_args["server_settings"] = {"application_name": str(query.pop("application_name"))}
    return url.set(query=query), connect_args


def _split_hosts(values: tuple[str, ...]) -> tuple[str, str]:
    """`?host=h1:5432&host=h2:5433` (SQLAlchemy's multi-host form) for libpq."""
    hosts, ports = [], []
    for value in values:
        host, _, port = value.rpartition(":") if not value.startswith("/") else (value, "", "")
        hosts.append(host or value)
        ports.append(port)
    return ",".join(hosts), ",".join(ports) if any(ports) else ""


def psycopg_conninfo(database_url: str) -> str:
    """The libpq conninfo psycopg connects with, from the same URL.

    Handles passwords with any characters (percent-decoded by the URL parser,
    re-quoted by psycopg), unix sockets given as `?host=/path`, several hosts,
    `ssl` spelled the asyncpg way, and passes other libpq options through.
    """
    url = parse_database_url(database_url)
    params: dict[str, str | int] = {}
    if url.host:
        params["host"] = url.host
    if url.port:
        params["port"] = url.port
    if url.username:
        params["user"] = url.username
    if url.password:
        params["password"] = url.password
    if url.database:
        params["dbname"] = url.database
    for key, value in url.query.items():
        if key in _ASYNCPG_ONLY:
            continue
        if key == "host" and isinstance(value, tuple):
            params["host"], ports = _split_hosts(value)
            if ports:
                params["port"] = ports
            continue
        params["sslmode" if key == "ssl" else key] = value if isinstance(value, str) else ",".join(value)
    return make_conninfo("", **params)
