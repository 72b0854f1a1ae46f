"""Search across the caller's conversations: GET /api/v1/search."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.db.session import SessionDep
from app.schemas.errors import error_responses
from app.schemas.search import SearchHitOut, SearchPageOut
from app.schemas.text import StoredText
from app.services.auth.users import CurrentUser
from app.services.conversations.repository import ArchivedFilter
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
    return SearchPageOut(items=[SearchHitOut.of(hit) for hit in page.items], next_cursor=page.next_cursor)
