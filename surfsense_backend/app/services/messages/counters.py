"""The counters a conversation keeps of its messages (`message_count`,
`last_message_preview`), adjusted by the very statement that writes the
messages: one way, for every write.

Each write of `messages` is a CTE whose RETURNING rows (the messages
written, or gone) feed an UPDATE of `conversations` in the same statement:
the count moves by the complete messages among them, by SQL arithmetic, so
concurrent writers add up instead of overwriting; the preview is the label
of the latest complete message, read from the rows themselves (those
written, or the latest left after a delete). Nothing ever counts a
conversation's messages again. A reply `streaming` is no message yet: it
moves no counter until it is finished.
"""

from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    SQLColumnExpression,
    Update,
    and_,
    case,
    column,
    func,
    literal,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by

from app.models import PREVIEW_CHARS, Conversation, Message

# Where a non-text block carries its file's name, in the order `label_of` looks.
_NAME_KEYS = [(where, key) for where in ("metadata", "extras", None) for key in ("filename", "name")]


def _has_words(text: SQLColumnExpression[str]) -> ColumnElement[bool]:
    return text.op("~")(r"\S")


def _attachment_name(block: ColumnElement[Any]) -> ColumnElement[str]:
    """`app.db.content.attachment_name` in SQL: a non-text block's file name, or its type."""

    def named(where: str | None, key: str) -> ColumnElement[str]:
        value = (block[where] if where else block)[key]
        return case((and_(func.jsonb_typeof(value) == "string", _has_words(value.astext)), value.astext))

    kind = block["type"].astext
    return case(
        (
            and_(func.jsonb_typeof(block) == "object", kind != "text"),
            func.coalesce(*(named(where, key) for where, key in _NAME_KEYS), func.nullif(kind, "")),
        )
    )


def preview_of(content: SQLColumnExpression[str], blocks: SQLColumnExpression[Any]) -> ColumnElement[str]:
    """A stored message's preview: `app.db.content.label_of` of its body, in
    SQL (so a statement computes it from the rows it writes or keeps), cut
    to the preview's length. Its text; for blocks without words, the names
    of their attachments."""
    element = (
        func.jsonb_array_elements(type_coerce(blocks, JSONB))
        .table_valued(column("value", JSONB), with_ordinality="ord")
        .render_derived()
    )
    in_order = aggregate_order_by(literal(", "), element.c.ord)
    names = select(func.string_agg(_attachment_name(element.c.value), in_order)).select_from(element)
    label = case(
        (blocks.is_(None) | _has_words(content), content), else_=func.coalesce(names.scalar_subquery(), "")
    )
    return func.left(label, PREVIEW_CHARS)


def counted(written: CTE, label: ColumnElement[str] | None = None) -> Update:
    """The conversations counting the complete messages of `written` (a CTE
    returning messages stored: `id`, `conversation_id`, `status`, `content`,
    `blocks`), active now, their preview the latest of them: `label` (a
    bound value: the preview of that message when the caller wrote it and
    knows it, far cheaper than the preview's SQL), else read from the rows."""
    complete = written.c.status == "complete"
    if label is not None:
        preview: ColumnElement[str] = func.min(label)
    else:
        latest = aggregate_order_by(preview_of(written.c.content, written.c.blocks), written.c.id.desc())
        preview = func.array_agg(latest)[1]
    added = (
        select(
            written.c.conversation_id,
            func.count().label("added"),
            preview.label("preview"),
        )
        .where(complete)
        .group_by(written.c.conversation_id)
        .subquery("added")
    )
    return (
        update(Conversation)
        .where(Conversation.id == added.c.conversation_id)
        .values(
            message_count=Conversation.message_count + added.c.added,
            last_message_preview=added.c.preview,
            updated_at=func.now(),
        )
    )


def uncounted(gone: CTE) -> Update:
    """The conversations no longer counting the complete messages of `gone`
    (a CTE returning messages deleted: `id`, `conversation_id`, `status`),
    their preview the latest complete message left. The statement's snapshot
    still holds the rows it deletes, hence the `NOT IN`."""
    removed = (
        select(gone.c.conversation_id, func.count().label("removed"))
        .where(gone.c.status == "complete")
        .group_by(gone.c.conversation_id)
        .subquery("removed")
    )
    left = (
        select(preview_of(Message.content, Message.blocks))
        .where(
            Message.conversation_id == Conversation.id,
            Message.status == "complete",
            Message.id.not_in(select(gone.c.id)),
        )
        .order_by(Message.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        update(Conversation)
        .where(Conversation.id == removed.c.conversation_id)
        .values(
            message_count=Conversation.message_count - removed.c.removed,
            last_message_preview=left,
            updated_at=func.now(),
        )
    )
