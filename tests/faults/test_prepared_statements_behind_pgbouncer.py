"""Prepared statements turned on behind PgBouncer in transaction mode:
the saver notices the first failure, turns them off for good, and carries on."""

import asyncio
import logging
import shutil
import uuid
from collections.abc import Iterator

import pytest

from app.config import PersistenceConfig
from app.services.persistence import MessageCheckpointer
from app.services.persistence.saver import PooledPostgresSaver
from tests.conftest import TEST_DATABASE
from tests.graphs import chat, echo_graph
from tests.pgbouncer import PgBouncer

pytestmark = pytest.mark.skipif(
    shutil.which("pgbouncer") is None and shutil.which("/usr/sbin/pgbouncer") is None,
    reason="needs Debian's pgbouncer package (.ci/run installs it)",
)


@pytest.fixture
def bouncer(test_server_url: str, database_url: str) -> Iterator[PgBouncer]:
    bouncer = PgBouncer(test_server_url)
    bouncer.start()
    yield bouncer
    bouncer.stop()


async def test_the_saver_stops_preparing_at_the_first_sign(
    bouncer: PgBouncer, caplog: pytest.LogCaptureFixture
) -> None:
    # Prepare every statement: what a direct connection may do for speed.
    config = PersistenceConfig(prepare_threshold=0, pool_max_size=10, retry_base_delay=0.05)
    checkpointer = MessageCheckpointer(bouncer.url_for(TEST_DATABASE), config)
    try:
        saver = await checkpointer.get_saver()
        assert isinstance(saver, PooledPostgresSaver)
        graph = echo_graph(saver)

        async def converse() -> list[str]:
            thread = f"prepared-{uuid.uuid4()}"
            for turn in range(5):
                messages = await chat(graph, thread, f"turn {turn}")
            return messages

        with caplog.at_level(logging.ERROR):
            results = await asyncio.gather(*(converse() for _ in range(20)))
    finally:
        await checkpointer.cleanup()

    assert all(messages[0::2] == [f"turn {t}" for t in range(5)] for messages in results)
    assert saver.prepared_statements_disabled
    said = [r for r in caplog.records if "turning them off" in r.getMessage()]
    assert len(said) == 1
