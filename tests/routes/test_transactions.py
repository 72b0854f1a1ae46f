"""The transaction rule: a route never commits (the request's session does,
as the route returns), and a route that waits on a run holds no transaction
while it waits, whatever the caller's authentication read."""

import ast
import asyncio
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

import app
from tests.chat_models import GatedChatModel
from tests.conditions import until
from tests.http_client import Caller, CallerOn

ROUTES = Path(app.__file__).parent / "routes"
ENDS = {"commit", "rollback"}

_IDLE_IN_TRANSACTION_SQL = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle in transaction'
"""


def transaction_ends(root: Path) -> set[tuple[str, str]]:
    """Every call under `root` that ends a transaction (`x.commit()`, `x.rollback()`), by file."""
    found: set[tuple[str, str]] = set()
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ENDS:
                found.add((path.relative_to(root).as_posix(), ast.unparse(node.func)))
    return found


def test_no_route_ends_a_transaction() -> None:
    assert transaction_ends(ROUTES) == set()


def test_it_finds_a_commit_or_a_rollback_anywhere_in_a_route(tmp_path: Path) -> None:
    (tmp_path / "langgraph").mkdir()
    (tmp_path / "a.py").write_text("async def f(session):\n    await session.commit()\n")
    (tmp_path / "langgraph" / "b.py").write_text("def g(s):\n    return [s.rollback() for _ in ()]\n")
    (tmp_path / "c.py").write_text("def h(s):\n    s.committed()\n    commit()\n")
    assert transaction_ends(tmp_path) == {("a.py", "session.commit"), ("langgraph/b.py", "s.rollback")}


async def _no_transaction_idles(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        idle: int = await conn.scalar(text(_IDLE_IN_TRANSACTION_SQL))
        return idle == 0


async def _waits_without_a_transaction(
    engine: AsyncEngine, model: GatedChatModel, waiting: "asyncio.Task[object]"
) -> None:
    await model.started.wait()
    # The run's own writes are short; a transaction held by the waiting request would stay.
    await until(lambda: _no_transaction_idles(engine), "no transaction idling while the route waits")
    assert not waiting.done()
    model.gate.set()
    await waiting


async def test_a_message_answered_in_json_holds_no_transaction_while_the_run_goes_on(
    caller_on: CallerOn, engine: AsyncEngine
) -> None:
    model = GatedChatModel()
    caller = await caller_on(model)
    conversation = await caller.conversation()
    sent = asyncio.create_task(caller.send(conversation, "hello"))
    await _waits_without_a_transaction(engine, model, sent)
    assert sent.result().status_code == 200


async def _thread(caller: Caller) -> str:
    response = await caller.client.post("/langgraph/threads", json={})
    assert response.status_code == 200, response.text
    return str(response.json()["thread_id"])


async def test_an_agent_server_wait_and_join_hold_no_transaction_while_the_run_goes_on(
    caller_on: CallerOn, engine: AsyncEngine
) -> None:
    model = GatedChatModel()
    caller = await caller_on(model)
    thread = await _thread(caller)
    body = {"assistant_id": "chat", "input": {"messages": [{"role": "user", "content": "hi"}]}}
    waited = asyncio.create_task(caller.client.post(f"/langgraph/threads/{thread}/runs/wait", json=body))
    await _waits_without_a_transaction(engine, model, waited)
    assert waited.result().status_code == 200

    model.gate.clear()
    model.started.clear()
    run = (await caller.client.post(f"/langgraph/threads/{thread}/runs", json=body)).json()
    joined = asyncio.create_task(caller.client.get(f"/langgraph/threads/{thread}/runs/{run['run_id']}/join"))
    await _waits_without_a_transaction(engine, model, joined)
    assert joined.result().status_code == 200
