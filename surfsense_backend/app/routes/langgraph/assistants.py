"""Assistants: the registered graphs, read-only."""

from typing import Any

from fastapi import APIRouter, Query

from app.routes.langgraph.deps import Assistants
from app.schemas.errors import error_responses
from app.schemas.langgraph import AssistantOut, AssistantSearchIn, GraphSchemaOut
from app.services.auth.users import CurrentUser
from app.services.threads import assistants

router = APIRouter(prefix="/assistants", tags=["langgraph"], responses=error_responses(401, 422, 503))


@router.post("/search")
async def search_assistants(
    body: AssistantSearchIn, agents: Assistants, _: CurrentUser
) -> list[AssistantOut]:
    found = assistants.search(
        agents,
        metadata=body.metadata,
        graph_id=body.graph_id,
        name=body.name,
        sort_by=body.sort_by,
        descending=body.sort_order == "desc",
        limit=body.limit,
        offset=body.offset,
    )
    return [AssistantOut.model_validate(a) for a in found]


@router.get("/{assistant_id}", responses=error_responses(404))
async def get_assistant(assistant_id: str, agents: Assistants, _: CurrentUser) -> AssistantOut:
    return AssistantOut.model_validate(assistants.assistant_json(assistants.find(agents, assistant_id)))


@router.get("/{assistant_id}/graph", responses=error_responses(404))
async def get_assistant_graph(
    assistant_id: str, agents: Assistants, _: CurrentUser, xray: bool = Query(default=False)
) -> dict[str, Any]:
    return assistants.graph_json(agents, assistant_id, xray)


@router.get("/{assistant_id}/schemas", responses=error_responses(404))
async def get_assistant_schemas(assistant_id: str, agents: Assistants, _: CurrentUser) -> GraphSchemaOut:
    return GraphSchemaOut.model_validate(assistants.schemas_json(agents, assistant_id))
