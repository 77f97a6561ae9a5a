"""Work for the worker: uploads to parse, renders, export bundles, co-op reports; and jobs."""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath
from typing import Annotated, Literal

from counterpromo_core import jobs, uploads, work
from counterpromo_core.db.models import Job
from counterpromo_core.pagination import MAX_PAGE_SIZE
from counterpromo_storage.keys import account_key
from fastapi import Query, Request, Response, status

from counterpromo_api.auth import AnyMember, Db
from counterpromo_api.dependencies import Idempotent
from counterpromo_api.problems import error_responses
from counterpromo_api.requests import ParseRequest, RenderRequest, UploadCreate
from counterpromo_api.responses import (
    JobOut,
    PageOut,
    PresignedPostOut,
    UploadCreatedOut,
    UploadOut,
)
from counterpromo_api.routing import api_router, url_for
from counterpromo_api.services import services_of

router = api_router(tags=["work"])

UPLOAD_FORM_SECONDS = 900
JOB_LOCATION = {
    "Location": {"description": "The job's URL: poll it.", "schema": {"type": "string"}}
}


def accepted(job: Job, request: Request, response: Response) -> JobOut:
    response.headers["Location"] = url_for(request, "get_job", job_id=job.id)
    return JobOut.model_validate(job)


@router.post(
    "/uploads",
    status_code=status.HTTP_201_CREATED,
    tags=["uploads"],
    summary="Start an upload: a presigned POST form for a product file (CSV, XLSX) or a "
    "picture (PNG, JPEG, WebP)",
    dependencies=[Idempotent],
    responses=error_responses(409),
)
def create_upload(
    body: UploadCreate, actor: AnyMember, session: Db, request: Request
) -> UploadCreatedOut:
    services = services_of(request)
    suffix = PurePosixPath(body.filename).suffix.lower()
    # Our own name for the object: nothing the client typed ends up in the key.
    name = uuid.uuid4().hex + (suffix if suffix in uploads.CONTENT_TYPES else "")
    key = account_key(actor.account_id, "uploads", name)
    max_bytes = uploads.max_bytes_for(body.filename)
    upload = uploads.create_upload(
        session,
        actor.account_id,
        filename=body.filename,
        content_type=body.content_type,
        promo_id=body.promo_id,
        bucket=services.config.uploads_bucket,
        key=key,
        max_bytes=max_bytes,
    )
    form = services.blobs.for_account(actor.account_id).presigned_post(
        services.config.uploads_bucket,
        key,
        content_type=upload.content_type,
        max_bytes=max_bytes,
        expires=UPLOAD_FORM_SECONDS,
    )
    return UploadCreatedOut(
        upload=UploadOut.model_validate(upload),
        form=PresignedPostOut(url=form.url, fields=dict(form.fields), expires_at=form.expires_at),
    )


@router.get("/uploads/{upload_id}", tags=["uploads"])
def get_upload(upload_id: uuid.UUID, actor: AnyMember, session: Db) -> UploadOut:
    return UploadOut.model_validate(uploads.get_upload(session, actor.account_id, upload_id))


@router.post(
    "/uploads/{upload_id}/parse",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["uploads"],
    summary="Queue processing of the uploaded file: a product file is parsed into its promo's "
    "items (parse_upload job); a picture becomes an image asset (process_image job)",
    dependencies=[Idempotent],
    responses={202: {"headers": JOB_LOCATION}, **error_responses(409)},
)
def parse_upload(
    upload_id: uuid.UUID,
    *,
    body: ParseRequest,
    actor: AnyMember,
    session: Db,
    request: Request,
    response: Response,
) -> JobOut:
    job = uploads.request_parse(
        session, actor.account_id, upload_id, mode=body.mode, mapping=body.mapping
    )
    return accepted(job, request, response)


@router.post(
    "/promos/{promo_id}/renders",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["renders and exports"],
    summary="Queue a render: PDF + PNG preview, one set per branch for a branch pack",
    description="Counts one `renders` per output set when queued; 402 when the month's "
    "renders are used up or branch packs are not in the plan.",
    dependencies=[Idempotent],
    responses={202: {"headers": JOB_LOCATION}, **error_responses(402, 409)},
)
def request_render(
    promo_id: uuid.UUID,
    *,
    actor: AnyMember,
    session: Db,
    request: Request,
    response: Response,
    body: RenderRequest | None = None,
) -> JobOut:
    options = body or RenderRequest()
    job = work.request_render(
        session,
        actor.account_id,
        promo_id,
        branch_pack=options.branch_pack,
        paper=options.paper,
        clock=services_of(request).clock,
    )
    return accepted(job, request, response)


@router.post(
    "/promos/{promo_id}/exports",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["renders and exports"],
    summary="Queue a ZIP bundle of the promo's current outputs",
    dependencies=[Idempotent],
    responses={202: {"headers": JOB_LOCATION}, **error_responses(409)},
)
def request_export(
    promo_id: uuid.UUID, actor: AnyMember, session: Db, request: Request, response: Response
) -> JobOut:
    return accepted(work.request_export(session, actor.account_id, promo_id), request, response)


@router.post(
    "/promos/{promo_id}/coop-report",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["renders and exports"],
    summary="Queue the co-op CSV report (plan feature `coop_report`)",
    dependencies=[Idempotent],
    responses={202: {"headers": JOB_LOCATION}, **error_responses(402, 409)},
)
def request_coop_report(
    promo_id: uuid.UUID, actor: AnyMember, session: Db, request: Request, response: Response
) -> JobOut:
    job = work.request_coop_report(session, actor.account_id, promo_id)
    return accepted(job, request, response)


@router.get("/jobs", tags=["jobs"], summary="List jobs, newest first (cursor pagination)")
def list_jobs(
    *,
    actor: AnyMember,
    session: Db,
    status_: Annotated[
        Literal["queued", "running", "succeeded", "failed", "dead"] | None,
        Query(alias="status"),
    ] = None,
    promo_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> PageOut[JobOut]:
    page = jobs.list_jobs(
        session, actor.account_id, status=status_, promo_id=promo_id, limit=limit, cursor=cursor
    )
    return PageOut[JobOut](
        items=[JobOut.model_validate(j) for j in page.items], next_cursor=page.next_cursor
    )


@router.get("/jobs/{job_id}", tags=["jobs"])
def get_job(job_id: uuid.UUID, actor: AnyMember, session: Db) -> JobOut:
    return JobOut.model_validate(jobs.get_job(session, actor.account_id, job_id))
