"""A user's crons: made on one of their threads or stateless, each checked
as the run it fires would be (its assistant, config and context), so a cron
that could never fire is refused when it is made, not at its first due time."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.agents.registry import CompiledAssistants
from app.models import Cron
from app.schemas.crons import RUN_FIELDS, CronCreateIn, CronPatchIn
from app.schemas.langgraph import RunCreateIn
from app.services.assistants.service import AssistantService
from app.services.conversations.repository import ConversationRepository
from app.services.crons.errors import CronNotFound, InvalidCronChange
from app.services.crons.repository import CronFilter, CronRepository
from app.services.crons.schedule import Schedule
from app.services.persistence import ConversationNotFound
from app.services.runs.run_config import merged_config
from app.services.threads.runs import refuse_unserved
from app.services.threads.service import thread_uuid

# A cron's fields a change reschedules it by.
_TIMING = ("schedule", "timezone", "end_time", "enabled")


def cron_json(cron: Cron) -> dict[str, Any]:
    """A cron as the Agent Server shows it."""
    return {
        "cron_id": str(cron.cron_id),
        "assistant_id": cron.assistant_id,
        "thread_id": None if cron.conversation_id is None else str(cron.conversation_id),
        "on_run_completed": cron.on_run_completed,
        "end_time": cron.end_time,
        "schedule": cron.schedule,
        "timezone": cron.timezone,
        "created_at": cron.created_at,
        "updated_at": cron.updated_at,
        "user_id": str(cron.user_id),
        "payload": cron.payload,
        "next_run_date": cron.next_run_at,
        "metadata": cron.metadata_,
        "enabled": cron.enabled,
    }


class CronService:
    """In the caller's transaction; a cron or thread not the caller's is not found."""

    def __init__(self, session: AsyncSession, user_id: uuid.UUID, agents: CompiledAssistants) -> None:
        self.session = session
        self.user_id = user_id
        self.agents = agents
        self.repository = CronRepository(session, user_id)
        self.assistants = AssistantService(session, user_id, agents)

    async def create(self, thread_id: str | None, body: CronCreateIn) -> Cron:
        """A cron of the caller's thread `thread_id`, or a stateless one (None)."""
        conversation_id = None
        if thread_id is not None:
            conversation_id = await self._thread(thread_id)
            if body.on_run_completed is not None:
                raise InvalidCronChange(
                    "on_run_completed is for stateless crons: a thread's runs stay on it."
                )
        payload = body.model_dump(include=set(RUN_FIELDS), exclude_none=True)
        await self._check_run(payload)
        schedule = Schedule(body.schedule, body.timezone, body.end_time)
        # Checked whether enabled or not: a cron enabled later must be able to fire.
        first = schedule.first_after(await CronRepository.now(self.session))
        next_run_at = first if body.enabled else None
        return await self.repository.add(
            Cron(
                conversation_id=conversation_id,
                assistant_id=body.assistant_id,
                schedule=body.schedule,
                timezone=body.timezone,
                end_time=schedule.end_time,
                enabled=body.enabled,
                on_run_completed=None if thread_id is not None else body.on_run_completed or "delete",
                payload=payload,
                metadata_=body.metadata or {},
                next_run_at=next_run_at,
            )
        )

    async def get(self, cron_id: str, *, for_update: bool = False) -> Cron:
        found = _parsed(cron_id)
        cron = await self.repository.get(found, for_update=for_update) if found is not None else None
        if cron is None:
            raise CronNotFound(cron_id)
        return cron

    async def update(self, cron_id: str, body: CronPatchIn) -> Cron:
        """The fields given changed; `metadata` merged into the cron's. A new
        schedule, zone, end or enabling is counted from now."""
        given = body.model_fields_set
        if not given:
            raise InvalidCronChange("A cron update needs at least one field to change.")
        cron = await self.get(cron_id, for_update=True)
        if "on_run_completed" in given:
            if cron.conversation_id is not None:
                raise InvalidCronChange(
                    "on_run_completed is for stateless crons: a thread's runs stay on it."
                )
            cron.on_run_completed = body.on_run_completed or "delete"
        changed = body.model_dump(include=set(RUN_FIELDS & given), exclude_none=True)
        if body.metadata:
            cron.metadata_ = {**cron.metadata_, **body.metadata}
            changed["metadata"] = cron.metadata_
        payload = {**cron.payload, **changed}
        await self._check_run(payload)
        cron.payload = payload
        if given & set(_TIMING):
            self._reschedule(cron, body, given, await CronRepository.now(self.session))
        await self.repository.flush()
        return cron

    def _reschedule(self, cron: Cron, body: CronPatchIn, given: set[str], now: datetime) -> None:
        cron.schedule = body.schedule or cron.schedule
        if "timezone" in given:
            cron.timezone = body.timezone
        if "end_time" in given:
            cron.end_time = body.end_time
        if body.enabled is not None:
            cron.enabled = body.enabled
        schedule = Schedule(cron.schedule, cron.timezone, cron.end_time)
        cron.end_time = schedule.end_time
        cron.next_run_at = None
        # A cron that ended can still be disabled; a new end must be to come.
        if cron.enabled or "end_time" in given:
            first = schedule.first_after(now)
            cron.next_run_at = first if cron.enabled else None

    async def delete(self, cron_id: str) -> None:
        found = _parsed(cron_id)
        if found is None or not await self.repository.delete(found):
            raise CronNotFound(cron_id)

    @staticmethod
    def filter(
        assistant_id: str | None, thread_id: str | None, metadata: dict[str, Any] | None, enabled: bool | None
    ) -> CronFilter:
        """What a search or a count asks for; a thread id must be a UUID."""
        conversation_id = None
        if thread_id is not None and (conversation_id := _parsed(thread_id)) is None:
            raise InvalidCronChange(f"Thread id {thread_id!r} is not a UUID.")
        return CronFilter(assistant_id, conversation_id, metadata, enabled)

    async def search(
        self, where: CronFilter, *, limit: int, offset: int, sort_by: str, descending: bool
    ) -> Sequence[Cron]:
        return await self.repository.search(
            where, limit=limit, offset=offset, sort_by=sort_by, descending=descending
        )

    async def count(self, where: CronFilter) -> int:
        return await self.repository.count(where)

    async def _thread(self, thread_id: str) -> uuid.UUID:
        conversation = await ConversationRepository(self.session, self.user_id).get(thread_uuid(thread_id))
        if conversation is None:
            raise ConversationNotFound(thread_id)
        return conversation.id

    async def _check_run(self, payload: dict[str, Any]) -> None:
        """What the run a firing starts would be refused for, refused now:
        an unserved feature, an assistant the caller cannot run, a config or
        context its graph refuses."""
        body = RunCreateIn.model_validate(payload)
        refuse_unserved(body)
        assistant = await self.assistants.resolve(body.assistant_id)
        config, context = merged_config(body.config, body.context, assistant.config, assistant.context)
        self.agents[assistant.graph_id].client_context(context, config.get("configurable", {}))


def _parsed(cron_id: str) -> uuid.UUID | None:
    """A cron's id as a UUID; None for text that names no cron."""
    try:
        return uuid.UUID(cron_id)
    except ValueError:
        return None
