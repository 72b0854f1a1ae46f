"""Assistants: the graphs of `langgraph.json`, shared and read-only, and the
configurations of them each user makes, with their versions."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import Field

from app.routes.langgraph.deps import AssistantConfigs as Service
from app.schemas.assistants import (
    AssistantCountIn,
    AssistantCreateIn,
    AssistantLatestIn,
    AssistantOut,
    AssistantPatchIn,
    AssistantSearchIn,
    AssistantVersionOut,
    AssistantVersionsIn,
    GraphSchemaOut,
    SubgraphSchemaOut,
)
from app.schemas.errors import error_responses
from app.services.assistants.filters import AssistantFilter
from app.services.assistants.service import AssistantChange, AssistantService
from app.services.threads.runs import NotServed

MAX_XRAY = 100

router = APIRouter(prefix="/assistants", tags=["langgraph"], responses=error_responses(401, 422, 503))


def _change(body: AssistantCreateIn | AssistantPatchIn) -> AssistantChange:
    return AssistantChange(
        graph_id=body.graph_id,
        config=body.config,
        context=body.context,
        metadata=body.metadata,
        name=body.name,
        description=body.description,
    )


@router.post("", responses=error_responses(409, 424))
async def create_assistant(body: AssistantCreateIn, assistants: Service) -> AssistantOut:
    return AssistantOut.model_validate(
        await assistants.create(_change(body), body.assistant_id, body.if_exists)
    )


# Only the fields an assistant has (`select` narrows them), not nulls for the rest.
@router.post("/search", response_model_exclude_unset=True)
async def search_assistants(
    body: AssistantSearchIn, assistants: Service, response: Response
) -> list[AssistantOut]:
    found = await assistants.search(
        AssistantFilter(body.metadata, body.graph_id, body.name),
        limit=body.limit,
        offset=body.offset,
        sort_by=body.sort_by,
        descending=body.sort_order == "desc",
        fields=body.select,
    )
    # The Agent Server's paging headers: a full page may have a next one.
    if len(found) == body.limit:
        response.headers["X-Pagination-Next"] = str(body.offset + body.limit)
    return [AssistantOut.model_validate(a) for a in found]


@router.post("/count")
async def count_assistants(body: AssistantCountIn, assistants: Service) -> int:
    return await assistants.count(AssistantFilter(body.metadata, body.graph_id, body.name))


@router.get("/{assistant_id}", responses=error_responses(404, 424))
async def get_assistant(assistant_id: str, assistants: Service) -> AssistantOut:
    return AssistantOut.model_validate(await assistants.get(assistant_id))


@router.patch("/{assistant_id}", responses=error_responses(404, 409, 424))
async def update_assistant(assistant_id: str, body: AssistantPatchIn, assistants: Service) -> AssistantOut:
    """A new version of the assistant, made current."""
    return AssistantOut.model_validate(await assistants.update(assistant_id, _change(body)))


@router.delete("/{assistant_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404, 409))
async def delete_assistant(assistant_id: str, assistants: Service, delete_threads: bool = False) -> Response:
    if delete_threads:
        # A thread here keeps the graph it runs, not the assistant that started it.
        raise NotServed("Deleting an assistant's threads with it (delete_threads)")
    await assistants.delete(assistant_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{assistant_id}/versions", responses=error_responses(404))
async def list_versions(
    assistant_id: str, body: AssistantVersionsIn, assistants: Service
) -> list[AssistantVersionOut]:
    found = await assistants.versions(assistant_id, body.metadata, body.limit, body.offset)
    return [AssistantVersionOut.model_validate(v) for v in found]


@router.post("/{assistant_id}/latest", responses=error_responses(404, 409))
async def set_latest_version(assistant_id: str, body: AssistantLatestIn, assistants: Service) -> AssistantOut:
    return AssistantOut.model_validate(await assistants.set_latest(assistant_id, body.version))


@router.get("/{assistant_id}/graph", responses=error_responses(404, 424))
async def get_assistant_graph(
    assistant_id: str,
    assistants: Service,
    # True, or how many levels of subgraphs to draw, as the Agent Server takes it.
    xray: Annotated[bool | Annotated[int, Field(ge=1, le=MAX_XRAY)], Query()] = False,
) -> dict[str, Any]:
    return await assistants.graph(assistant_id, xray)


@router.get("/{assistant_id}/schemas", responses=error_responses(404, 424))
async def get_assistant_schemas(assistant_id: str, assistants: Service) -> GraphSchemaOut:
    return GraphSchemaOut.model_validate(await assistants.schemas(assistant_id))


@router.get("/{assistant_id}/subgraphs", responses=error_responses(404, 424))
async def get_assistant_subgraphs(
    assistant_id: str, assistants: Service, recurse: bool = False
) -> dict[str, SubgraphSchemaOut]:
    return await _subgraphs(assistants, assistant_id, None, recurse)


@router.get("/{assistant_id}/subgraphs/{namespace}", responses=error_responses(404, 424))
async def get_assistant_subgraphs_in(
    assistant_id: str, namespace: str, assistants: Service, recurse: bool = False
) -> dict[str, SubgraphSchemaOut]:
    return await _subgraphs(assistants, assistant_id, namespace, recurse)


async def _subgraphs(
    assistants: AssistantService, assistant_id: str, namespace: str | None, recurse: bool
) -> dict[str, SubgraphSchemaOut]:
    found = await assistants.subgraphs(assistant_id, namespace, recurse)
    return {ns: SubgraphSchemaOut.model_validate(schemas) for ns, schemas in found.items()}
