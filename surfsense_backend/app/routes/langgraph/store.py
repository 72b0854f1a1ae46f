"""The store (long-term memory), as the Agent Server serves it: every
namespace is the caller's own (`UserStore` puts their id in front of it),
but the app's shared ones (STORE_SHARED_NAMESPACES), read-only: 403."""

from typing import Annotated, Literal, cast

from fastapi import APIRouter, Depends, Query, Request, Response, status
from langgraph.store.base import GetOp, Item, ListNamespacesOp, MatchCondition, PutOp, SearchItem, SearchOp

from app.schemas.errors import error_responses
from app.schemas.store import (
    ItemOut,
    NamespacesOut,
    SearchItemOut,
    SearchItemsOut,
    StoreDeleteIn,
    StoreNamespacesIn,
    StorePutIn,
    StoreSearchIn,
)
from app.services.auth.users import CurrentUser
from app.services.store import AppStore, UserStore
from app.services.store.errors import StoreUnavailable

router = APIRouter(prefix="/store", tags=["langgraph"], responses=error_responses(401, 422, 503))


async def _store(request: Request, user: CurrentUser) -> UserStore:
    store: AppStore | None = request.app.state.store
    if store is None:
        raise StoreUnavailable
    return store.for_user(user.id)


Store = Annotated[UserStore, Depends(_store)]


# Operations go to `abatch` as they are, so the store checks every label,
# key, value and bound and refuses bad ones with their cause (422).
@router.put("/items", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(403))
async def put_item(body: StorePutIn, store: Store) -> Response:
    await store.abatch([PutOp(tuple(body.namespace), body.key, body.value, body.index, ttl=body.ttl)])
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/items")
async def get_item(
    store: Store,
    key: str,
    namespace: Annotated[str, Query()] = "",
    refresh_ttl: bool | None = None,
) -> ItemOut | None:
    # langgraph-sdk sends the namespace as its labels joined by dots.
    labels = tuple(namespace.split(".")) if namespace else ()
    [item] = await store.abatch([GetOp(labels, key, store.refreshes(refresh_ttl))])
    return None if item is None else ItemOut.model_validate(cast(Item, item).dict())


@router.delete("/items", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(403))
async def delete_item(body: StoreDeleteIn, store: Store) -> Response:
    await store.abatch([PutOp(tuple(body.namespace), body.key, None)])
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/items/search")
async def search_items(body: StoreSearchIn, store: Store) -> SearchItemsOut:
    op = SearchOp(
        tuple(body.namespace_prefix or ()),
        body.filter,
        body.limit,
        body.offset,
        body.query,
        store.refreshes(body.refresh_ttl),
    )
    [found] = await store.abatch([op])
    items = cast(list[SearchItem], found)
    return SearchItemsOut(items=[SearchItemOut.model_validate(item.dict()) for item in items])


@router.post("/namespaces")
async def list_namespaces(body: StoreNamespacesIn, store: Store) -> NamespacesOut:
    kinds: tuple[tuple[Literal["prefix", "suffix"], list[str] | None], ...] = (
        ("prefix", body.prefix),
        ("suffix", body.suffix),
    )
    conditions = [MatchCondition(kind, tuple(path)) for kind, path in kinds if path]
    op = ListNamespacesOp(tuple(conditions) or None, body.max_depth, body.limit, body.offset)
    [found] = await store.abatch([op])
    namespaces = cast(list[tuple[str, ...]], found)
    return NamespacesOut(namespaces=[list(namespace) for namespace in namespaces])
