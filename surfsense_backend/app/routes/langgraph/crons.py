"""Crons: runs on a schedule, on a thread of the caller's or stateless (a
thread made for each run), fired once per due time by whichever process
polls first, through the run engine like any run."""

from fastapi import APIRouter, Response, status

from app.routes.langgraph.deps import Crons
from app.schemas.crons import CronCountIn, CronCreateIn, CronOut, CronPatchIn, CronSearchIn
from app.schemas.errors import error_responses
from app.services.crons.service import cron_json

router = APIRouter(tags=["langgraph"], responses=error_responses(401, 422, 503))


@router.post("/threads/{thread_id}/runs/crons", responses=error_responses(404))
async def create_thread_cron(thread_id: str, body: CronCreateIn, crons: Crons) -> CronOut:
    """A cron whose runs go on the caller's thread `thread_id`."""
    return CronOut.model_validate(cron_json(await crons.create(thread_id, body)))


@router.post("/runs/crons", responses=error_responses(404))
async def create_cron(body: CronCreateIn, crons: Crons) -> CronOut:
    """A stateless cron: each run on a thread made for it (`on_run_completed`
    deletes it once the run ended, the default, or keeps it)."""
    return CronOut.model_validate(cron_json(await crons.create(None, body)))


# Only the fields a cron has (`select` narrows them), not nulls for the rest.
@router.post("/runs/crons/search", response_model_exclude_unset=True)
async def search_crons(body: CronSearchIn, crons: Crons, response: Response) -> list[CronOut]:
    where = crons.filter(body.assistant_id, body.thread_id, body.metadata, body.enabled)
    found = await crons.search(
        where,
        limit=body.limit,
        offset=body.offset,
        sort_by=body.sort_by,
        descending=body.sort_order == "desc",
    )
    # The Agent Server's paging header: a full page may have a next one.
    if len(found) == body.limit:
        response.headers["X-Pagination-Next"] = str(body.offset + body.limit)
    fields = set(body.select) if body.select else None
    return [
        CronOut.model_validate({k: v for k, v in cron_json(cron).items() if fields is None or k in fields})
        for cron in found
    ]


@router.post("/runs/crons/count")
async def count_crons(body: CronCountIn, crons: Crons) -> int:
    return await crons.count(crons.filter(body.assistant_id, body.thread_id, body.metadata, None))


@router.get("/runs/crons/{cron_id}", responses=error_responses(404))
async def get_cron(cron_id: str, crons: Crons) -> CronOut:
    return CronOut.model_validate(cron_json(await crons.get(cron_id)))


@router.patch("/runs/crons/{cron_id}", responses=error_responses(404))
async def update_cron(cron_id: str, body: CronPatchIn, crons: Crons) -> CronOut:
    """The fields given changed, `metadata` merged; a new timing counts from now."""
    return CronOut.model_validate(cron_json(await crons.update(cron_id, body)))


@router.delete(
    "/runs/crons/{cron_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404)
)
async def delete_cron(cron_id: str, crons: Crons) -> Response:
    """The cron; runs it started stay."""
    await crons.delete(cron_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
