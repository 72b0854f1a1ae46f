"""What a caller may do with their threads: the conversations the chat API
shows, under the names and shapes of the LangGraph Agent Server API."""

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessage
from langgraph.errors import InvalidUpdateError
from langgraph.types import StateSnapshot
from sqlalchemy.ext.asyncio import AsyncSession

from app.agents.registry import CompiledAssistants
from app.errors import InvalidRequest, first_line
from app.models import Conversation
from app.services.assistants.service import AssistantService
from app.services.conversations.errors import RunInProgress
from app.services.conversations.repository import CheckpointRepository, ConversationRepository
from app.services.conversations.service import ConversationService
from app.services.forks import fork
from app.services.persistence import (
    CheckpointNotFound,
    ConversationNotFound,
    ConversationStorage,
    ThreadsNotPruned,
)
from app.services.runs.repository import RunRepository
from app.services.threads.containment import contains
from app.services.threads.errors import InvalidStateUpdate, InvalidThreadId, ThreadExists
from app.services.threads.extract import parse, pick
from app.services.threads.repository import SortBy, ThreadFilter, ThreadRepository, ThreadRow
from app.services.threads.state import checkpoint_json, interrupts_by_task, state_json, values_json

# Keys of a thread's metadata that name its graph: read from the conversation, never stored.
GRAPH_KEYS = ("graph_id", "assistant_id")
# The most threads a values filter reads the state of, for one search or count.
VALUES_SCAN = 1000
# The fields a thread has when a search names none.
ALL_FIELDS = ("thread_id", "created_at", "updated_at", "metadata", "status", "values", "interrupts")


def parse_thread_id(thread_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(thread_id)
    except ValueError:
        return None


def thread_uuid(thread_id: str) -> uuid.UUID:
    """The thread's id as a UUID; ConversationNotFound (404) for one that is
    not a UUID: it names no thread."""
    found = parse_thread_id(thread_id)
    if found is None:
        raise ConversationNotFound(thread_id)
    return found


class ThreadService:
    def __init__(self, session: AsyncSession, user_id: uuid.UUID, agents: CompiledAssistants) -> None:
        self.session = session
        self.user_id = user_id
        self.agents = agents
        self.threads = ThreadRepository(session, user_id)

    async def create(
        self, thread_id: str | None, metadata: dict[str, Any] | None, if_exists: str
    ) -> dict[str, Any]:
        """A new thread (a conversation), running the graph its metadata's
        `graph_id` (or `assistant_id`) names, or the graph of the caller's
        assistant it names (the default graph otherwise). An id in use is
        ThreadExists, unless `if_exists="do_nothing"` and the thread is the
        caller's: then that thread."""
        metadata = metadata or {}
        wanted = None
        if thread_id is not None and (wanted := parse_thread_id(thread_id)) is None:
            raise InvalidThreadId(thread_id)
        if wanted is not None and await self.threads.owner_of(wanted) is not None:
            return await self._existing(wanted, if_exists)
        named = str(metadata.get("graph_id") or metadata.get("assistant_id") or self.agents.registry.default)
        # A graph, or an assistant of the caller's: the thread runs its graph.
        assistant_id = (
            await AssistantService(self.session, self.user_id, self.agents).resolve(named)
        ).graph_id
        thread = wanted or uuid.uuid4()
        own = {k: v for k, v in metadata.items() if k not in GRAPH_KEYS}
        if not await self.threads.add_if_absent(thread, assistant_id, own):
            return await self._existing(thread, if_exists)  # taken between the check and the insert
        return await self.get(str(thread))

    async def _existing(self, thread_id: uuid.UUID, if_exists: str) -> dict[str, Any]:
        """A create whose id is taken: the caller's own thread with
        `do_nothing`, ThreadExists otherwise."""
        if if_exists == "do_nothing" and await self.threads.owner_of(thread_id) == self.user_id:
            return await self.get(str(thread_id))
        raise ThreadExists(thread_id)

    async def _row(self, thread_id: str) -> ThreadRow:
        found = parse_thread_id(thread_id)
        row = await self.threads.get(found) if found is not None else None
        if row is None:
            raise ConversationNotFound(thread_id)
        return row

    async def get(self, thread_id: str) -> dict[str, Any]:
        return await self._thread(await self._row(thread_id), ALL_FIELDS)

    async def update(self, thread_id: str, metadata: dict[str, Any]) -> dict[str, Any]:
        """Merge `metadata` into the thread's (the graph's keys stay the graph's)."""
        row = await self._row(thread_id)
        added = {k: v for k, v in metadata.items() if k not in GRAPH_KEYS}
        row.conversation.metadata_ = {**row.conversation.metadata_, **added}
        await self.session.flush()
        return await self.get(thread_id)

    async def copy(self, thread_id: str, conversations: ConversationService) -> dict[str, Any]:
        """A new thread with the same state, history, metadata and graph (the
        chat API's fork), in the caller's transaction, as `get` shows it. Its
        state is the source's, read as the copy is made: the saver reads on a
        connection of its own, which sees the copy only once it commits."""
        source = await self._row(thread_id)
        snapshot = await self._snapshot(source.conversation)
        copied = await fork(conversations, source.conversation.id, None)
        return await self._thread(await self._row(copied.thread_id), ALL_FIELDS, snapshot)

    async def prune(self, thread_ids: Sequence[str], strategy: str) -> int:
        """The caller's threads among `thread_ids` deleted (`delete`), or cut
        to their latest checkpoint (`keep_latest`); how many there were."""
        found = [i for i in map(parse_thread_id, thread_ids) if i is not None]
        rows = await self.threads.search(
            ThreadFilter(ids=found), limit=len(found) or 1, offset=0, sort_by="thread_id", descending=False
        )
        repository = ConversationRepository(self.session, self.user_id)
        not_pruned: dict[str, str] = {}
        for row in rows:
            if strategy == "delete":
                await repository.delete(row.conversation.id)
                continue
            try:
                await self.agents[row.conversation.assistant_id].keep_latest([row.conversation.thread_id])
            except ThreadsNotPruned as exc:
                # The rest are still pruned; the caller learns which were not and why.
                not_pruned.update(exc.reasons)
        if not_pruned:
            raise ThreadsNotPruned(not_pruned)
        return len(rows)

    async def delete(self, thread_id: str) -> None:
        if not await ConversationRepository(self.session, self.user_id).delete(thread_uuid(thread_id)):
            raise ConversationNotFound(thread_id)

    async def search(
        self,
        where: ThreadFilter,
        *,
        limit: int,
        offset: int,
        sort_by: SortBy,
        descending: bool,
        fields: Sequence[str] | None,
        extract: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """A page of the caller's threads with the fields named (all by
        default), and with `extract`, the values its paths pick out of each."""
        rows = await self._matching(
            where, values, limit=limit, offset=offset, sort_by=sort_by, descending=descending
        )
        paths = parse(extract or {})
        # What a path reads is fetched even when the response leaves it out.
        needed = list(dict.fromkeys([*(fields or ALL_FIELDS), *(str(p[0]) for p in paths.values())]))
        threads = await asyncio.gather(*(self._thread(row, needed) for row in rows))
        shown = fields or ALL_FIELDS
        return [
            {**{k: t[k] for k in shown}, **({"extracted": pick(t, paths)} if extract else {})}
            for t in threads
        ]

    async def count(self, where: ThreadFilter, values: dict[str, Any] | None = None) -> int:
        if not values:
            return await self.threads.count(where)
        return len(await self._matching(where, values, limit=VALUES_SCAN, offset=0))

    async def _matching(
        self,
        where: ThreadFilter,
        values: dict[str, Any] | None,
        *,
        limit: int,
        offset: int,
        sort_by: SortBy = "created_at",
        descending: bool = True,
    ) -> list[ThreadRow]:
        """The rows of a page. A `values` filter reads each candidate's state
        (the graph's values are not searchable in SQL), so the other filters
        must narrow the candidates to VALUES_SCAN threads."""
        if not values:
            return await self.threads.search(
                where, limit=limit, offset=offset, sort_by=sort_by, descending=descending
            )
        candidates = await self.threads.search(
            where, limit=VALUES_SCAN + 1, offset=0, sort_by=sort_by, descending=descending
        )
        if len(candidates) > VALUES_SCAN:
            raise InvalidRequest(
                f"A values filter reads each thread's state: narrow it to at most {VALUES_SCAN} threads "
                "with metadata, ids or status."
            )
        states = await asyncio.gather(*(self._values(row.conversation) for row in candidates))
        kept = [row for row, state in zip(candidates, states, strict=True) if contains(state, values)]
        return kept[offset : offset + limit]

    async def _values(self, conversation: Conversation) -> Any:
        return values_json(await self._snapshot(conversation))

    async def _snapshot(
        self, conversation: Conversation, checkpoint_id: str | None = None, *, subgraphs: bool = False
    ) -> StateSnapshot:
        agent = self.agents[conversation.assistant_id]
        return await agent.snapshot(conversation.thread_id, checkpoint_id, subgraphs=subgraphs)

    async def state(
        self, thread_id: str, checkpoint_id: str | None = None, subgraphs: bool = False
    ) -> dict[str, Any]:
        """The graph's state, at `checkpoint_id` if given (CheckpointNotFound otherwise)."""
        row = await self._row(thread_id)
        snapshot = await self._snapshot(row.conversation, checkpoint_id, subgraphs=subgraphs)
        if checkpoint_id is not None and snapshot.created_at is None:
            raise CheckpointNotFound(checkpoint_id)
        return state_json(snapshot)

    async def history(
        self,
        thread_id: str,
        *,
        limit: int,
        before: str | None = None,
        metadata: dict[str, Any] | None = None,
        checkpoint_ns: str = "",
        checkpoint_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """The graph's states in namespace `checkpoint_ns`, newest first:
        `limit` of them, saved before checkpoint `before`, whose metadata
        holds `metadata` (or the one `checkpoint_id` names)."""
        row = await self._row(thread_id)
        agent = self.agents[row.conversation.assistant_id]
        config = agent.config(row.conversation.thread_id, checkpoint_id, checkpoint_ns)
        upto = agent.config(row.conversation.thread_id, before, checkpoint_ns) if before else None
        states = agent.graph.aget_state_history(config, filter=metadata or None, before=upto, limit=limit)
        return [state_json(snapshot) async for snapshot in states]

    async def update_state(
        self,
        thread_id: str,
        values: dict[str, Any] | list[Any] | None,
        as_node: str | None,
        at: str | None = None,
    ) -> dict[str, Any]:
        """Write `values` into the graph's state as node `as_node` would have
        (a new checkpoint); messages it adds join the history. RunInProgress
        while a run is pending or running: the run would write over it. Only
        at the thread's latest checkpoint (`at` may name it)."""
        row = await self._row(thread_id)
        conversation = row.conversation
        if at is not None and at != await self.head(conversation):
            raise InvalidRequest("A state update at an earlier checkpoint is not served by this server yet.")
        found = await RunRepository(self.session).lock_conversation(conversation.id, self.user_id)
        if found is None:  # deleted since it was read
            raise ConversationNotFound(thread_id)
        if found[1]:
            raise RunInProgress
        before = await self._snapshot(conversation)
        agent = self.agents[conversation.assistant_id]
        try:
            written = await agent.graph.aupdate_state(
                agent.config(conversation.thread_id), values, as_node=as_node
            )
        except (InvalidUpdateError, ValueError) as exc:
            # No such node, values the graph cannot take, or an edge of the
            # graph's own refusing them (a ValueError, 400 on the Agent Server).
            raise InvalidStateUpdate(first_line(exc)) from exc
        after = await agent.graph.aget_state(written)
        checkpoint = checkpoint_json(written)
        known = {m.id for m in _messages(before.values)}
        added = [m for m in _messages(after.values) if m.id not in known]
        if added:
            checkpoint_id = checkpoint["checkpoint_id"] if checkpoint else None
            await ConversationStorage(self.session, owner_id=self.user_id).save_messages(
                conversation.id, added, checkpoint_id
            )
        return {"checkpoint": checkpoint}

    async def head(self, conversation: Conversation) -> str | None:
        """The thread's latest checkpoint: where a run starts (its id alone,
        not the state the graph would rebuild to answer it)."""
        return await CheckpointRepository(self.session).latest(conversation.id)

    async def _thread(
        self, row: ThreadRow, fields: Sequence[str], snapshot: StateSnapshot | None = None
    ) -> dict[str, Any]:
        """The thread as the Agent Server shows it; its state from `snapshot`, else read."""
        conversation = row.conversation
        thread: dict[str, Any] = {
            "thread_id": conversation.thread_id,
            "created_at": conversation.created_at,
            "updated_at": conversation.updated_at,
            "metadata": row.metadata,
            "config": {},
            "context": {},
            "status": row.status,
        }
        if "values" in fields or "interrupts" in fields:
            snapshot = snapshot or await self._snapshot(conversation)
            thread["values"] = values_json(snapshot)
            thread["interrupts"] = interrupts_by_task(snapshot)
        return {field: thread[field] for field in fields if field in thread}


def _messages(values: Any) -> list[BaseMessage]:
    found = values.get("messages", []) if isinstance(values, dict) else []
    return [m for m in found if isinstance(m, BaseMessage)]


def thread_filter(
    metadata: dict[str, Any] | None, status: str | None, ids: Sequence[str] | None = None
) -> ThreadFilter:
    """The conditions of a search or a count in SQL; ids that are not UUIDs match nothing."""
    parsed = None if ids is None else [i for i in map(parse_thread_id, ids) if i is not None]
    return ThreadFilter(metadata=metadata, ids=parsed, status=status)  # type: ignore[arg-type]
