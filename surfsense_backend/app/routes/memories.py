"""The caller's long-term memories (the store's items) in the chat API:
listed in keyset pages, searched by meaning, deleted one at a time or all."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from app.schemas.errors import error_responses
from app.schemas.memories import MemoriesDeletedOut, MemoryOut, MemoryPageOut
from app.schemas.text import StoredText
from app.services.auth.users import CurrentUser
from app.services.store import AppStore
from app.services.store.errors import StoreUnavailable
from app.services.store.memories import MemoryService

router = APIRouter(prefix="/api/v1", tags=["memories"], responses=error_responses(401, 422, 503))


async def _memories(request: Request, user: CurrentUser) -> MemoryService:
    store: AppStore | None = request.app.state.store
    if store is None:
        raise StoreUnavailable
    return MemoryService(store.for_user(user.id), request.app.state.secret_key)


Memories = Annotated[MemoryService, Depends(_memories)]


@router.get("/memories")
async def list_memories(
    memories: Memories,
    *,
    q: Annotated[StoredText | None, Query(min_length=1, max_length=1000)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[StoredText | None, Query(max_length=1024)] = None,
) -> MemoryPageOut:
    """Newest first in pages; with `q`, the `limit` closest in meaning (one page)."""
    if q is not None:
        found = await memories.search(q, limit)
        return MemoryPageOut(
            items=[MemoryOut.model_validate(item.dict()) for item in found], next_cursor=None
        )
    page = await memories.page(limit, cursor)
    items = [
        MemoryOut(
            namespace=list(row.namespace),
            key=row.key,
            value=row.value,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
        for row in page.items
    ]
    return MemoryPageOut(items=items, next_cursor=page.next_cursor)


@router.delete("/memories/item", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404))
async def delete_memory(
    memories: Memories,
    namespace: Annotated[list[str], Query(min_length=1)],
    key: Annotated[str, Query()],
) -> Response:
    """One memory, by its namespace (`namespace` once per label) and key."""
    await memories.delete(namespace, key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/memories")
async def delete_memories(memories: Memories) -> MemoriesDeletedOut:
    """Every memory of the caller's."""
    return MemoriesDeletedOut(deleted=await memories.delete_all())
