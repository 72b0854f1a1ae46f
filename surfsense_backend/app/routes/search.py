"""Search across the caller's conversations: GET /api/v1/search."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.db.session import SessionDep
from app.schemas.errors import error_responses
from app.schemas.search import (
    SearchConversationOut,
    SearchHitOut,
    SearchMessageOut,
    SearchPageOut,
    SnippetPart,
)
from app.schemas.text import StoredText
from app.services.auth.users import CurrentUser
from app.services.conversations.archived import ArchivedFilter
from app.services.search.hits import START, STOP, Hit
from app.services.search.query import MAX_QUERY_CHARS
from app.services.search.service import SearchService

router = APIRouter(prefix="/api/v1", tags=["search"], responses=error_responses(401, 422, 503))


@router.get("/search")
async def search(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    *,
    q: Annotated[StoredText, Query(min_length=1, max_length=MAX_QUERY_CHARS)],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    cursor: Annotated[StoredText | None, Query(max_length=512)] = None,
    archived: ArchivedFilter = "false",
) -> SearchPageOut:
    """The caller's messages and conversation titles matching `q`
    (websearch syntax: "a phrase", or, -word; the last word also as a
    prefix), best first, each with a highlighted snippet."""
    page = await SearchService(session, user.id, request.app.state.secret_key).search(
        q, archived, limit, cursor
    )
    return SearchPageOut(items=[hit_out(hit) for hit in page.items], next_cursor=page.next_cursor)


def hit_out(hit: Hit) -> SearchHitOut:
    message = None
    if hit.message_id is not None and hit.role is not None and hit.created_at is not None:
        message = SearchMessageOut(id=hit.message_id, role=hit.role, created_at=hit.created_at)
    return SearchHitOut(
        conversation=SearchConversationOut(id=hit.conversation_id, title=hit.title),
        message=message,
        snippet=snippet_parts(hit.snippet),
        rank=hit.rank,
    )


def snippet_parts(snippet: str) -> list[SnippetPart]:
    """ts_headline's text split at its match markers."""
    parts: list[SnippetPart] = []
    for index, piece in enumerate(snippet.split(START)):
        matched, _, rest = piece.partition(STOP) if index else ("", "", piece)
        parts.extend(SnippetPart(text=t, match=m) for t, m in ((matched, True), (rest, False)) if t)
    return parts
