"""Every write of `messages`, and of the counters `conversations` keep of
them: the one module that writes either (see `counters`). Each insert,
finish, copy and delete is one statement that adjusts the counters too.
Flushes, never commits."""

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    CTE,
    BindParameter,
    ColumnElement,
    Select,
    TableValuedAlias,
    Text,
    and_,
    bindparam,
    cast,
    column,
    delete,
    func,
    insert,
    inspect,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.elements import NamedColumn

from app.db.base import Base
from app.models import PREVIEW_CHARS, Conversation, Message
from app.services.messages.counters import counted, uncounted
from app.services.messages.incoming import MessageIn

# The columns of a message as stored from a MessageIn, in `_rows`' order.
_STORED = [
    Message.role,
    Message.content,
    Message.blocks,
    Message.metadata_,
    Message.checkpoint_id,
    Message.status,
]


def dating(run_id: uuid.UUID | ColumnElement[uuid.UUID], checkpoint_id: str) -> Update:
    """The statement giving a run's messages stored before its graph's first
    checkpoint (the user's message, say) the checkpoint they went in at; it
    moves no counter. A statement, so the run's end can run it as a CTE of
    its own (`RunRepository.end`)."""
    return (
        update(Message)
        .where(Message.run_id == run_id, Message.checkpoint_id.is_(None), Message.status == "complete")
        .values(checkpoint_id=checkpoint_id)
    )


class MessageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, message_id: int) -> Message | None:
        return await self.session.get(Message, message_id)

    async def insert(
        self,
        conversation_id: uuid.UUID,
        incoming: Sequence[MessageIn],
        checkpoint_id: str | None,
        run_id: uuid.UUID | None,
        *,
        owner_id: uuid.UUID | None = None,
    ) -> list[Message]:
        """The messages after the conversation's others, in their order, counted:
        one statement. None stored (an empty list) when the conversation is
        gone or, with `owner_id`, not that user's.

        The conversation's row is locked before the messages take their ids,
        so concurrent writers of one conversation commit in the order of
        their ids, and a reader paging forward by id misses none."""
        latest = next((m for m in reversed(incoming) if m.status == "complete"), None)
        params = {
            **_row_params(incoming, checkpoint_id),
            "target_id": conversation_id,
            "owner": owner_id,
            "run": run_id,
            "preview": _preview(latest.label) if latest else None,
        }
        statement = _INSERT if owner_id is None else _INSERT_OWNED
        return list(await self.session.scalars(statement, params))

    async def finish(self, reply_id: int, finished: MessageIn, checkpoint_id: str | None) -> Message | None:
        """A streaming reply given its whole message and made `complete`,
        counted, in one statement; None if it is not streaming (finished
        already, or gone)."""
        params = {
            "reply_id": reply_id,
            "reply_content": finished.content,
            "reply_blocks": finished.blocks,
            "reply_checkpoint_id": checkpoint_id,
            "reply_metadata": finished.metadata,
            "preview": _preview(finished.label),
        }
        stored = list(await self.session.scalars(_FINISH, params))
        return stored[0] if stored else None

    async def copy(
        self, source: uuid.UUID, target: uuid.UUID, until: str | None, runs: Mapping[uuid.UUID, uuid.UUID]
    ) -> int:
        """A fork's copies of `source`'s complete messages (those saved up to
        checkpoint `until`) in conversation `target`, each under the copy of
        its run `runs` names (under no run when its run was not copied),
        counted: how many."""
        renamed = (
            func.unnest(
                _array("sources", list(runs), PG_UUID()), _array("forks", list(runs.values()), PG_UUID())
            )
            .table_valued(column("source_run", PG_UUID), column("fork_run", PG_UUID))
            .render_derived()
        )
        copied = (
            select(
                literal(target, PG_UUID),
                renamed.c.fork_run,
                *_STORED,
                Message.created_at,
            )
            .select_from(Message)
            .outerjoin(renamed, renamed.c.source_run == Message.run_id)
            .where(*_copied(source, until))
            .order_by(Message.id)
        )
        written = (
            insert(Message)
            .from_select([Message.conversation_id, Message.run_id, *_STORED, Message.created_at], copied)
            .returning(*_loaded(Message))
            .cte("written")
        )
        return len(await self._written(written))

    async def runs_to_copy(self, source: uuid.UUID, until: str | None) -> list[uuid.UUID]:
        """The runs of the messages `copy` copies."""
        statement = select(Message.run_id).where(*_copied(source, until)).distinct()
        return [run_id for run_id in await self.session.scalars(statement) if run_id is not None]

    async def stream(self, reply_id: int, text: str) -> None:
        """A streaming reply's text so far; a finished reply is left alone."""
        await self.session.execute(
            update(Message).where(Message.id == reply_id, Message.status == "streaming").values(content=text)
        )

    async def date(self, run_id: uuid.UUID, checkpoint_id: str) -> None:
        await self.session.execute(dating(run_id, checkpoint_id))

    async def end_pending(
        self, conversation_id: uuid.UUID, ended: dict[str, Any], *where: ColumnElement[bool]
    ) -> None:
        """The conversation's pending interrupts (those `where` picks) given
        `ended` in their metadata."""
        await self.session.execute(
            update(Message)
            .where(
                Message.conversation_id == conversation_id,
                Message.role == "interrupt",
                Message.metadata_["pending"].as_boolean(),
                *where,
            )
            .values(metadata_=Message.metadata_.op("||")(literal(ended, JSONB)))
        )

    async def discard_reply(self, reply_id: int) -> None:
        """A reply still streaming leaves the history; a finished one stays."""
        await self._delete(Message.id == reply_id, Message.status == "streaming")

    async def discard_replies_of(self, run_ids: Sequence[uuid.UUID]) -> None:
        """The replies of these runs still streaming leave the history."""
        await self._delete(Message.run_id.in_(run_ids), Message.status == "streaming")

    async def delete_run(self, run_id: uuid.UUID) -> None:
        """Every message of the run."""
        await self._delete(Message.run_id == run_id)

    async def rewind(self, conversation_id: uuid.UUID, checkpoint_id: str) -> None:
        """The messages that went in after checkpoint `checkpoint_id` ("": every dated one)."""
        await self._delete(Message.conversation_id == conversation_id, Message.checkpoint_id > checkpoint_id)

    async def delete_conversation(self, conversation_id: uuid.UUID, owner_id: uuid.UUID) -> None:
        """Every message of the owner's conversation (none if not the owner's)."""
        owned = select(Conversation.id).where(
            Conversation.id == conversation_id, Conversation.user_id == owner_id
        )
        await self._delete(Message.conversation_id == conversation_id, Message.conversation_id.in_(owned))

    async def reindex(self, chosen: Select[tuple[int]], vector: ColumnElement[Any]) -> list[int]:
        """The messages `chosen` given `vector` (over `Message.content`) as
        their search vector, as the search trigger would: their ids. Counters
        do not move (search, `services/search/reindex.py`, asks)."""
        statement = (
            update(Message).where(Message.id.in_(chosen)).values(search_vector=vector).returning(Message.id)
        )
        return list(await self.session.scalars(statement))

    async def _written(self, written: CTE) -> list[Message]:
        return list(await self.session.scalars(_counting(written)))

    async def _delete(self, *where: ColumnElement[bool]) -> None:
        """The messages `where` picks deleted, the counters of their
        conversations moved in the same statement; loaded copies of those
        conversations take the new counters."""
        gone = (
            delete(Message)
            .where(*where)
            .returning(Message.id, Message.conversation_id, Message.status)
            .cte("gone")
        )
        moved = uncounted(gone).returning(*_loaded(Conversation)).cte("moved")
        statement = select(aliased(Conversation, moved)).execution_options(populate_existing=True)
        await self.session.scalars(statement)


def _copied(source: uuid.UUID, until: str | None) -> list[ColumnElement[bool]]:
    """The messages a fork copies: complete ones, dated up to `until` if
    given (a reply still streaming belongs to the source's run, not to the fork)."""
    condition = [Message.conversation_id == source, Message.status == "complete"]
    if until is not None:
        condition += [Message.checkpoint_id.is_not(None), Message.checkpoint_id <= until]
    return condition


def _loaded(model: type[Base]) -> list[NamedColumn[Any]]:
    """The columns a loaded object of `model` holds (not the deferred ones)."""
    return [prop.columns[0] for prop in inspect(model).column_attrs if not prop.deferred]


def _array(name: str, values: list[Any], item: Any) -> BindParameter[Any]:
    return bindparam(name, values, type_=ARRAY(item))


def _rows() -> TableValuedAlias:
    """The messages as rows with their order (`ord`), from one array per
    column (`_row_params`): one statement text, cached, whatever their number."""

    def array(name: str, stored: InstrumentedAttribute[Any]) -> BindParameter[Any]:
        return bindparam(name, type_=ARRAY(stored.type))

    return (
        func.unnest(
            array("rows_roles", Message.role),
            array("rows_contents", Message.content),
            # As JSON text: a driver sends a list inside an array as another dimension.
            bindparam("rows_blocks", type_=ARRAY(Text)),
            array("rows_metadata", Message.metadata_),
            array("rows_checkpoints", Message.checkpoint_id),
            array("rows_statuses", Message.status),
        )
        .table_valued(
            "role", "content", "blocks", "metadata_", "checkpoint_id", "status", with_ordinality="ord"
        )
        .render_derived()
    )


def _row_params(incoming: Sequence[MessageIn], checkpoint_id: str | None) -> dict[str, list[Any]]:
    return {
        "rows_roles": [m.role for m in incoming],
        "rows_contents": [m.content for m in incoming],
        "rows_blocks": [_json_or_null(m.blocks) for m in incoming],
        "rows_metadata": [m.metadata for m in incoming],
        "rows_checkpoints": [checkpoint_id if m.status == "complete" else None for m in incoming],
        "rows_statuses": [m.status for m in incoming],
    }


def _json_or_null(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _counting(written: CTE, label: ColumnElement[str] | None = None) -> Select[tuple[Message]]:
    """The messages `written` returns, in order, the statement counting them
    too (`label`: the latest complete one's preview, if the caller knows
    it); loaded copies of them take the stored values."""
    stored = aliased(Message, written)
    return (
        select(stored)
        .add_cte(counted(written, label).cte("counted"))
        .order_by(stored.id)
        .execution_options(populate_existing=True)
    )


def _preview(label: str) -> str:
    return label[:PREVIEW_CHARS]


def _insert_statement(*, owned: bool) -> Select[tuple[Message]]:
    """`insert`'s statement, built once: every value a bound parameter,
    named apart from every column (Core would read a parameter named as a
    column of an UPDATE's table as a value to SET)."""
    target_of = Conversation.id == bindparam("target_id", type_=PG_UUID)
    if owned:
        target_of = and_(target_of, Conversation.user_id == bindparam("owner", type_=PG_UUID))
    target = select(Conversation.id).where(target_of).with_for_update(key_share=True).cte("target")
    rows = _rows()
    values = [cast(rows.c.blocks, JSONB) if c is Message.blocks else rows.c[c.key] for c in _STORED]
    run_id = bindparam("run", type_=PG_UUID)
    source = select(target.c.id, run_id, *values).join(rows, true()).order_by(rows.c.ord)
    written = (
        insert(Message)
        .from_select([Message.conversation_id, Message.run_id, *_STORED], source)
        .returning(*_loaded(Message))
        .cte("written")
    )
    return _counting(written, bindparam("preview", type_=Text))


def _finish_statement() -> Select[tuple[Message]]:
    """`finish`'s statement, built once."""
    written = (
        update(Message)
        .where(Message.id == bindparam("reply_id", type_=Message.id.type), Message.status == "streaming")
        .values(
            content=bindparam("reply_content", type_=Message.content.type),
            blocks=bindparam("reply_blocks", type_=Message.blocks.type),
            checkpoint_id=bindparam("reply_checkpoint_id", type_=Message.checkpoint_id.type),
            status="complete",
            metadata_=Message.metadata_.op("||")(bindparam("reply_metadata", type_=JSONB)),
        )
        .returning(*_loaded(Message))
        .cte("written")
    )
    return _counting(written, bindparam("preview", type_=Text))


# Built once: a turn's two writes of messages skip building and hashing their statements.
_INSERT = _insert_statement(owned=False)
_INSERT_OWNED = _insert_statement(owned=True)
_FINISH = _finish_statement()
