"""The saver passes every capability of langgraph-checkpoint-conformance."""

from collections.abc import AsyncIterator

import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.capabilities import ALL_CAPABILITIES

from app.config import PersistenceConfig
from app.services.persistence import MessageCheckpointer


async def test_all_eight_capabilities_pass(
    database_url: str, persistence_config: PersistenceConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    @checkpointer_test(name="PooledPostgresSaver (MessageCheckpointer)")
    async def ours() -> AsyncIterator[BaseCheckpointSaver[str]]:
        checkpointer = MessageCheckpointer(database_url, persistence_config)
        yield await checkpointer.get_saver()
        await checkpointer.cleanup()

    report = await validate(ours)
    with capsys.disabled():
        report.print_report()
    failures = {name: result.failures for name, result in report.results.items() if not result.passed}
    assert failures == {}
    assert {name for name, result in report.results.items() if result.detected} == {
        c.value for c in ALL_CAPABILITIES
    }
