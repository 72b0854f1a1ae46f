"""What the Agent Server routes share: the compiled graphs, and the caller's threads and assistants."""

from typing import Annotated

from fastapi import Depends, Request

from app.agents.registry import CompiledAssistants
from app.db.session import SessionDep
from app.services.assistants.service import AssistantService
from app.services.auth.users import CurrentUser
from app.services.conversations.service import ConversationService
from app.services.crons.service import CronService
from app.services.threads.service import ThreadService


async def compiled_assistants(request: Request) -> CompiledAssistants:
    assistants: CompiledAssistants = request.app.state.chat_runner.agents
    return assistants


Assistants = Annotated[CompiledAssistants, Depends(compiled_assistants)]


async def _threads(session: SessionDep, user: CurrentUser, agents: Assistants) -> ThreadService:
    return ThreadService(session, user.id, agents)


Threads = Annotated[ThreadService, Depends(_threads)]


async def _conversations(
    request: Request, session: SessionDep, user: CurrentUser, agents: Assistants
) -> ConversationService:
    return ConversationService(session, user.id, request.app.state.secret_key, agents.registry)


Conversations = Annotated[ConversationService, Depends(_conversations)]


async def _assistants(session: SessionDep, user: CurrentUser, agents: Assistants) -> AssistantService:
    return AssistantService(session, user.id, agents)


AssistantConfigs = Annotated[AssistantService, Depends(_assistants)]


async def _crons(session: SessionDep, user: CurrentUser, agents: Assistants) -> CronService:
    return CronService(session, user.id, agents)


Crons = Annotated[CronService, Depends(_crons)]
