"""A run's status moves only as `RunStatus` allows, is read back as a member,
and no module compares or writes it as a bare string."""

import ast
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import RunStatus, ThreadRun
from app.models.run_status import ACTIVE, FINAL, CancelAction, MultitaskStrategy
from app.services.runs.repository import RunMoveRefused, RunRepository
from tests.factories import add_conversation

APP = Path(__file__).resolve().parents[3] / "surfsense_backend" / "app"


def test_a_pending_run_starts_or_ends_and_a_running_one_only_ends() -> None:
    assert RunStatus.PENDING.can_become(RunStatus.RUNNING)
    assert RunStatus.PENDING.can_become(RunStatus.CANCELLED)
    assert not RunStatus.PENDING.can_become(RunStatus.SUCCEEDED)
    assert all(RunStatus.RUNNING.can_become(status) for status in FINAL)
    assert not RunStatus.RUNNING.can_become(RunStatus.PENDING)
    assert not any(ended.can_become(status) for ended in FINAL for status in RunStatus)
    assert set(ACTIVE) | set(FINAL) == set(RunStatus)


def test_only_interrupt_and_rollback_cancel_the_active_runs() -> None:
    assert MultitaskStrategy.INTERRUPT.cancels is CancelAction.INTERRUPT
    assert MultitaskStrategy.ROLLBACK.cancels is CancelAction.ROLLBACK
    assert MultitaskStrategy.ENQUEUE.cancels is None
    assert MultitaskStrategy.REJECT.cancels is None


async def test_an_ended_run_is_not_moved_again(session: AsyncSession) -> None:
    user, conversation = await add_conversation(session)
    run = ThreadRun(conversation_id=conversation.id, user_id=user.id, prompt="hi")
    await RunRepository(session).add(run)
    RunRepository.cancel(run)
    await session.flush()
    with pytest.raises(RunMoveRefused, match="cannot go from cancelled to failed"):
        RunRepository.fail(run, "Late", "a failure after the cancel")


async def test_a_status_is_read_back_as_a_member_and_bad_text_is_refused(session: AsyncSession) -> None:
    user, conversation = await add_conversation(session)
    await session.execute(
        text(
            "INSERT INTO thread_runs (run_id, conversation_id, user_id, prompt, status)"
            " VALUES (gen_random_uuid(), :c, :u, 'q', 'pending')"
        ),
        {"c": conversation.id, "u": user.id},
    )
    status = await session.scalar(
        select(ThreadRun.status).where(ThreadRun.conversation_id == conversation.id)
    )
    assert status is RunStatus.PENDING
    with pytest.raises(StatementError, match="'paused' is not a valid RunStatus"):
        await session.scalar(select(ThreadRun).where(ThreadRun.status == "paused"))


_NAMES = {status.value for status in RunStatus}


def _bare(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value in _NAMES


def _is_status(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "status"


def _bare_status_use(node: ast.AST) -> bool:
    if isinstance(node, ast.Compare):
        return _is_status(node.left) and any(map(_bare, node.comparators))
    if isinstance(node, ast.Assign):
        return any(map(_is_status, node.targets)) and _bare(node.value)
    return isinstance(node, ast.keyword) and node.arg == "status" and _bare(node.value)


def _bare_status_uses(tree: ast.AST) -> list[int]:
    """Lines comparing or assigning `.status` (or passing `status=`) a run status spelled as a string."""
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and _bare_status_use(node):
            lines.add(node.value.lineno)
        elif isinstance(node, ast.Compare | ast.Assign) and _bare_status_use(node):
            lines.add(node.lineno)
    return sorted(lines)


def test_no_module_spells_a_run_status_as_a_string() -> None:
    assert _bare_status_uses(ast.parse('run.status = "failed"\nif run.status == "running": pass')) == [1, 2]
    found = {
        str(path.relative_to(APP)): lines
        for path in APP.rglob("*.py")
        if "migrations" not in path.parts and (lines := _bare_status_uses(ast.parse(path.read_text())))
    }
    assert found == {}
