"""The saver's psycopg connection pool, configured for long-lived production use."""

import select

from psycopg import AsyncConnection, OperationalError
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.pq import ConnStatus
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

from app.config import PersistenceConfig

SaverPool = AsyncConnectionPool[AsyncConnection[DictRow]]

# Cloud proxies and NATs drop idle TCP connections without telling either end;
# keepalives make the kernel notice within about a minute.
SAVER_APPLICATION_NAME = "surfsense-saver"

_TCP_KEEPALIVES = {
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "5",
}


def saver_conninfo(conninfo: str, config: PersistenceConfig) -> str:
    """The conninfo with keepalives, a connect timeout and a name in pg_stat_activity,
    unless it sets its own."""
    given = conninfo_to_dict(conninfo)
    defaults = {"connect_timeout": str(config.connect_timeout), "application_name": SAVER_APPLICATION_NAME}
    if not str(given.get("host", "")).startswith("/"):
        # Keepalives are a TCP option; libpq ignores them on unix sockets.
        defaults.update(_TCP_KEEPALIVES)
    return make_conninfo(conninfo, **{k: v for k, v in defaults.items() if k not in given})


async def check_connection(conn: AsyncConnection[DictRow]) -> None:
    """psycopg_pool's check, without its round trip when nothing is in doubt.

    An idle connection has nothing to read: a server that closed it (a
    terminated backend, a restart) leaves its FATAL message and EOF on the
    socket. So only a connection with something waiting gets the real check,
    and the rest are handed out at the cost of one poll instead of one query
    (`poll(2)`: one system call, where an epoll selector costs four).
    """
    if conn.closed or conn.pgconn.status != ConnStatus.OK:
        raise OperationalError("the connection is closed")
    poller = select.poll()
    poller.register(conn.pgconn.socket, select.POLLIN)
    if poller.poll(0):
        await AsyncConnectionPool.check_connection(conn)


def build_pool(conninfo: str, config: PersistenceConfig) -> SaverPool:
    """An unopened pool; the caller opens it (and retries that) when it is ready."""
    return AsyncConnectionPool(
        saver_conninfo(conninfo, config),
        connection_class=AsyncConnection[DictRow],
        min_size=config.pool_min_size,
        max_size=config.pool_max_size,
        timeout=config.pool_timeout,
        max_idle=config.pool_max_idle,
        max_lifetime=config.pool_max_lifetime,
        # A connection killed while idle is found and replaced before use.
        check=check_connection,
        open=False,
        name="langgraph-saver",
        kwargs={
            "autocommit": True,
            "row_factory": dict_row,
            "prepare_threshold": config.prepare_threshold,
        },
    )
