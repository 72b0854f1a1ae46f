"""Threads: create, read, search, count, update metadata, delete; their state."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.routes.langgraph.deps import Conversations, Threads
from app.schemas.errors import error_responses
from app.schemas.langgraph import (
    CheckpointIn,
    HistoryIn,
    StateAtIn,
    StateUpdateIn,
    StateUpdateOut,
    ThreadCountIn,
    ThreadCreateIn,
    ThreadOut,
    ThreadPatchIn,
    ThreadPruneIn,
    ThreadPruneOut,
    ThreadSearchIn,
    ThreadStateOut,
)
from app.schemas.text import StoredText
from app.services.threads.runs import NotServed
from app.services.threads.service import thread_filter

router = APIRouter(prefix="/threads", tags=["langgraph"], responses=error_responses(401, 422, 503))


@router.post("", responses=error_responses(409))
async def create_thread(body: ThreadCreateIn, threads: Threads) -> ThreadOut:
    return ThreadOut.model_validate(await threads.create(body.thread_id, body.metadata, body.if_exists))


# Only the fields a thread has here (`select` narrows them), not nulls for the rest.
@router.post("/search", response_model_exclude_unset=True)
async def search_threads(body: ThreadSearchIn, threads: Threads) -> list[ThreadOut]:
    found = await threads.search(
        thread_filter(body.metadata, body.status, body.ids),
        limit=body.limit,
        offset=body.offset,
        sort_by=body.sort_by,
        descending=body.sort_order == "desc",
        fields=body.select,
        extract=body.extract,
        values=body.values,
    )
    return [ThreadOut.model_validate(t) for t in found]


@router.post("/count")
async def count_threads(body: ThreadCountIn, threads: Threads) -> int:
    return await threads.count(thread_filter(body.metadata, body.status), body.values)


@router.post("/prune")
async def prune_threads(body: ThreadPruneIn, threads: Threads) -> ThreadPruneOut:
    """Delete the caller's threads among `thread_ids`, or keep only their latest checkpoint."""
    return ThreadPruneOut(pruned_count=await threads.prune(body.thread_ids, body.strategy))


@router.get("/{thread_id}", responses=error_responses(404))
async def get_thread(thread_id: str, threads: Threads) -> ThreadOut:
    return ThreadOut.model_validate(await threads.get(thread_id))


@router.patch("/{thread_id}", responses=error_responses(404))
async def update_thread(thread_id: str, body: ThreadPatchIn, threads: Threads) -> ThreadOut:
    return ThreadOut.model_validate(await threads.update(thread_id, body.metadata))


@router.delete("/{thread_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404))
async def delete_thread(thread_id: str, threads: Threads) -> Response:
    await threads.delete(thread_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{thread_id}/copy", responses=error_responses(404))
async def copy_thread(thread_id: str, threads: Threads, conversations: Conversations) -> ThreadOut:
    """A new thread with the same state, history, metadata and graph."""
    return ThreadOut.model_validate(await threads.copy(thread_id, conversations))


@router.get("/{thread_id}/state", responses=error_responses(404))
async def get_thread_state(
    thread_id: str, threads: Threads, subgraphs: bool = Query(default=False)
) -> ThreadStateOut:
    return ThreadStateOut.model_validate(await threads.state(thread_id, subgraphs=subgraphs))


@router.post("/{thread_id}/state", responses=error_responses(404, 409))
async def update_thread_state(thread_id: str, body: StateUpdateIn, threads: Threads) -> StateUpdateOut:
    """Write values into the graph's state as `as_node`; the new checkpoint."""
    named = body.checkpoint_id or (body.checkpoint.checkpoint_id if body.checkpoint else None)
    updated = await threads.update_state(thread_id, body.values, body.as_node, named)
    return StateUpdateOut.model_validate(updated)


@router.post("/{thread_id}/state/checkpoint", responses=error_responses(404))
async def get_thread_state_at_checkpoint(thread_id: str, body: StateAtIn, threads: Threads) -> ThreadStateOut:
    """The state at a checkpoint given whole (the thread's latest without an id)."""
    if body.checkpoint.checkpoint_ns:
        raise NotServed("A subgraph's state by its checkpoint")
    found = await threads.state(thread_id, body.checkpoint.checkpoint_id, body.subgraphs)
    return ThreadStateOut.model_validate(found)


@router.get("/{thread_id}/state/{checkpoint_id}", responses=error_responses(404))
async def get_thread_state_at(
    thread_id: str, checkpoint_id: str, threads: Threads, subgraphs: bool = Query(default=False)
) -> ThreadStateOut:
    return ThreadStateOut.model_validate(await threads.state(thread_id, checkpoint_id, subgraphs))


@router.post("/{thread_id}/history", responses=error_responses(404))
async def thread_history(thread_id: str, body: HistoryIn, threads: Threads) -> list[ThreadStateOut]:
    """The graph's states, newest first (`before` a checkpoint, filtered by metadata)."""
    before = body.before if isinstance(body.before, str) or body.before is None else body.before.checkpoint_id
    where = body.checkpoint or CheckpointIn()
    found = await threads.history(
        thread_id,
        limit=body.limit,
        before=before,
        metadata=body.metadata,
        checkpoint_ns=where.checkpoint_ns,
        checkpoint_id=where.checkpoint_id,
    )
    return [ThreadStateOut.model_validate(state) for state in found]


@router.get("/{thread_id}/history", responses=error_responses(404))
async def thread_history_page(
    thread_id: str,
    threads: Threads,
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
    before: Annotated[StoredText | None, Query(max_length=100)] = None,
) -> list[ThreadStateOut]:
    found = await threads.history(thread_id, limit=limit, before=before)
    return [ThreadStateOut.model_validate(state) for state in found]
