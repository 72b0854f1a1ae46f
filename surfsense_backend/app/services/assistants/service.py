"""What a caller may do with assistants, as the LangGraph Agent Server does it.

Two kinds share one id space: the graphs of `langgraph.json` are the system
assistants (id = graph id, everyone's, version 1, never changed), and the
assistants a user makes of them (a UUID, a config, a context, metadata, a
name; each change a new version) are that user's alone: to anyone else they
do not exist (404).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.agents.registry import Assistant, CompiledAssistants
from app.models import AssistantVersion, StoredAssistant
from app.services.assistants.errors import (
    AssistantExists,
    AssistantNotFound,
    InvalidAssistantId,
    SystemAssistantReadOnly,
    VersionNotFound,
)
from app.services.assistants.filters import AssistantFilter, SortBy
from app.services.assistants.graphs import drawing, graph_of, schemas, subgraphs
from app.services.assistants.repository import FIELDS, AssistantRepository
from app.services.conversations.errors import AssistantOfAnotherGraph
from app.services.runs.run_config import merged_config

# The graphs are code: they exist from the moment this process compiled them.
COMPILED_AT = datetime.now(UTC)
DEFAULT_NAME = "Untitled"


@dataclass(frozen=True)
class ResolvedAssistant:
    """What a run of an assistant runs: its graph, with its config and context."""

    assistant_id: str
    graph_id: str
    config: dict[str, Any]
    context: dict[str, Any]
    version: int

    @property
    def stored_id(self) -> str | None:
        """Its id, when it is an assistant a user made rather than a graph."""
        return None if self.assistant_id == self.graph_id else self.assistant_id


@dataclass(frozen=True)
class AssistantChange:
    """The fields a create or an update gives; None: not given."""

    graph_id: str | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    name: str | None = None
    description: str | None = None


def parse_assistant_id(assistant_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(assistant_id)
    except ValueError:
        return None


# How the Agent Server marks the assistants it makes of the graphs (clients search by it).
SYSTEM_METADATA = {"created_by": "system"}


def system_json(assistant: Assistant) -> dict[str, Any]:
    return {
        "assistant_id": assistant.id,
        "graph_id": assistant.id,
        "name": assistant.name,
        "description": assistant.description,
        "config": {},
        "context": {},
        "metadata": SYSTEM_METADATA,
        "version": 1,
        "created_at": COMPILED_AT,
        "updated_at": COMPILED_AT,
    }


def stored_json(assistant: StoredAssistant | AssistantVersion) -> dict[str, Any]:
    """An assistant, or one of its versions (which has no `updated_at`)."""
    found = {
        "assistant_id": str(assistant.assistant_id),
        "graph_id": assistant.graph_id,
        "name": assistant.name,
        "description": assistant.description,
        "config": assistant.config,
        "context": assistant.context,
        "metadata": assistant.metadata_,
        "version": assistant.version,
        "created_at": assistant.created_at,
    }
    if isinstance(assistant, StoredAssistant):
        found["updated_at"] = assistant.updated_at
    return found


def _client_form(
    config: dict[str, Any], context: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A stored config and context as a client gives them: the context alone,
    when `configurable` is its mirror."""
    if context:
        return {k: v for k, v in config.items() if k != "configurable"}, context
    return config, None


def _replaced(row: StoredAssistant, change: AssistantChange) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The config and context an update leaves: each given replaces the
    current one; a new configurable replaces the context, and a context
    given alone the configurable (LangGraph 0.6 reads it instead)."""
    config, context = _client_form(row.config, row.context)
    if change.config is not None:
        config = change.config
        if change.config.get("configurable"):
            context = None
    elif change.context is not None:
        config = {k: v for k, v in config.items() if k != "configurable"}
    if change.context is not None:
        context = change.context
    return config, context


class AssistantService:
    def __init__(self, session: AsyncSession, user_id: uuid.UUID, agents: CompiledAssistants) -> None:
        self.user_id = user_id
        self.agents = agents
        self.assistants = AssistantRepository(session, user_id)

    def _system(self, assistant_id: str) -> Assistant | None:
        """The graph of that id; GraphNotLoaded (424) for one that failed to load."""
        registry = self.agents.registry
        if assistant_id in registry.failed or any(a.id == assistant_id for a in registry):
            return registry.get(assistant_id)
        return None

    def _systems(self) -> list[dict[str, Any]]:
        return [system_json(a) for a in self.agents.registry]

    async def _owned(self, assistant_id: str, *, for_update: bool = False) -> StoredAssistant:
        found = parse_assistant_id(assistant_id)
        row = await self.assistants.get(found, for_update=for_update) if found else None
        if row is None:
            raise AssistantNotFound(assistant_id)
        return row

    async def _changeable(self, assistant_id: str) -> StoredAssistant:
        if self._system(assistant_id) is not None:
            raise SystemAssistantReadOnly(assistant_id)
        return await self._owned(assistant_id, for_update=True)

    def _checked(
        self, graph_id: str, config: dict[str, Any], context: dict[str, Any] | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The config and context an assistant of `graph_id` keeps, by the
        rules a run's follow (run_config.merged_config, the graph's
        context_schema): a bad one is refused here, not in a later run."""
        agent = self.agents[graph_id]  # UnknownAssistant (422) names the known graphs; GraphNotLoaded (424)
        config, context = merged_config(config, context)
        if context:
            agent.client_context(context, {})  # InvalidContext (422) names the field
        return config, context or {}

    async def create(
        self, change: AssistantChange, assistant_id: str | None, if_exists: str
    ) -> dict[str, Any]:
        """A new assistant of the caller's. An id in use is AssistantExists,
        unless `if_exists="do_nothing"` and it is the caller's: then that one."""
        wanted = None
        if assistant_id is not None and (wanted := parse_assistant_id(assistant_id)) is None:
            raise InvalidAssistantId(assistant_id)
        graph_id = change.graph_id or ""
        config, context = self._checked(graph_id, change.config or {}, change.context)
        new_id = wanted or uuid.uuid4()
        added = await self.assistants.add_if_absent(
            new_id,
            {
                "graph_id": graph_id,
                "name": change.name or DEFAULT_NAME,
                "description": change.description,
                "config": config,
                "context": context,
                "metadata_": change.metadata or {},
            },
        )
        if added is not None:
            return stored_json(added)
        if if_exists == "do_nothing" and await self.assistants.owner_of(new_id) == self.user_id:
            return await self.get(str(new_id))
        raise AssistantExists(new_id)

    async def get(self, assistant_id: str) -> dict[str, Any]:
        if (system := self._system(assistant_id)) is not None:
            return system_json(system)
        return stored_json(await self._owned(assistant_id))

    async def update(self, assistant_id: str, change: AssistantChange) -> dict[str, Any]:
        """A new version, made current: the fields given replace the current
        version's, metadata is merged into it."""
        row = await self._changeable(assistant_id)
        graph_id = change.graph_id or row.graph_id
        config, context = self._checked(graph_id, *_replaced(row, change))
        row.graph_id, row.config, row.context = graph_id, config, context
        row.metadata_ = {**row.metadata_, **(change.metadata or {})}
        row.name = change.name or row.name
        row.description = change.description if change.description is not None else row.description
        row.version = await self.assistants.latest_version(row.assistant_id) + 1
        await self.assistants.add_version(row)
        return stored_json(row)

    async def set_latest(self, assistant_id: str, version: int) -> dict[str, Any]:
        """Make an earlier (or later) version the current one again."""
        row = await self._changeable(assistant_id)
        kept = await self.assistants.version(row.assistant_id, version)
        if kept is None:
            raise VersionNotFound(assistant_id, version)
        row.graph_id, row.config, row.context = kept.graph_id, kept.config, kept.context
        row.metadata_, row.name, row.description = kept.metadata_, kept.name, kept.description
        row.version = kept.version
        await self.assistants.session.flush()
        return stored_json(row)

    async def delete(self, assistant_id: str) -> None:
        """Delete it with every version."""
        row = await self._changeable(assistant_id)
        await self.assistants.delete(row.assistant_id)

    async def versions(
        self, assistant_id: str, metadata: dict[str, Any] | None, limit: int, offset: int
    ) -> list[dict[str, Any]]:
        """Its versions, newest first, those whose metadata holds `metadata`."""
        if (system := self._system(assistant_id)) is not None:
            # Its one version, if its metadata holds the filter's.
            held = all(SYSTEM_METADATA.get(key) == value for key, value in (metadata or {}).items())
            return [system_json(system)][offset : offset + limit] if held else []
        row = await self._owned(assistant_id)
        return [
            stored_json(v) for v in await self.assistants.versions(row.assistant_id, metadata, limit, offset)
        ]

    async def search(
        self,
        where: AssistantFilter,
        *,
        limit: int,
        offset: int,
        sort_by: SortBy,
        descending: bool,
        fields: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """The shared assistants and the caller's that match every filter given."""
        found = await self.assistants.search(
            self._systems(), where, limit=limit, offset=offset, sort_by=sort_by, descending=descending
        )
        keep = fields or FIELDS
        return [{field: row[field] for field in keep} for row in found]

    async def count(self, where: AssistantFilter) -> int:
        return await self.assistants.count(self._systems(), where)

    async def resolve(self, assistant_id: str) -> ResolvedAssistant:
        """What a run naming `assistant_id` runs: a graph's id gives that graph
        as it is; a UUID, the caller's assistant of that id (404 otherwise);
        anything else is UnknownAssistant (422), naming the graphs there are."""
        if parse_assistant_id(assistant_id) is None:
            self.agents.registry.get(assistant_id)
            return ResolvedAssistant(assistant_id, assistant_id, {}, {}, 1)
        row = await self._owned(assistant_id)
        return ResolvedAssistant(str(row.assistant_id), row.graph_id, row.config, row.context, row.version)

    async def mine(self) -> Sequence[StoredAssistant]:
        """The caller's own assistants, newest first."""
        return await self.assistants.mine()

    async def of_conversation(self, conversation_id: uuid.UUID) -> ResolvedAssistant | None:
        """The caller's assistant a conversation of theirs keeps, as a run of it
        runs it; None when it keeps none. One whose graph is no longer the
        conversation's (an update moved it) is AssistantOfAnotherGraph (409)."""
        found = await self.assistants.of_conversation(conversation_id)
        if found is None:
            return None
        row, graph_id = found
        if row.graph_id != graph_id:
            raise AssistantOfAnotherGraph(conversation_id, graph_id, row.graph_id)
        return ResolvedAssistant(str(row.assistant_id), row.graph_id, row.config, row.context, row.version)

    async def _found(self, assistant_id: str) -> tuple[str, dict[str, Any]]:
        """The graph id and config of an assistant the caller may see."""
        if self._system(assistant_id) is not None:
            return assistant_id, {}
        row = await self._owned(assistant_id)
        return row.graph_id, row.config

    async def graph(self, assistant_id: str, xray: bool | int) -> dict[str, Any]:
        graph_id, config = await self._found(assistant_id)
        async with graph_of(self.agents[graph_id], config) as graph:
            return drawing(graph, xray)

    async def schemas(self, assistant_id: str) -> dict[str, Any]:
        graph_id, config = await self._found(assistant_id)
        async with graph_of(self.agents[graph_id], config) as graph:
            return {"graph_id": graph_id, **schemas(graph)}

    async def subgraphs(self, assistant_id: str, namespace: str | None, recurse: bool) -> dict[str, Any]:
        graph_id, config = await self._found(assistant_id)
        async with graph_of(self.agents[graph_id], config) as graph:
            return await subgraphs(graph, namespace, recurse)
