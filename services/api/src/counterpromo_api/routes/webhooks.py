"""``POST /webhooks/stripe``: verify, store, answer. Applying the event is the background
applier's work (``counterpromo_billing.event_applier``), so the answer never waits on Stripe."""

from __future__ import annotations

import logging
from typing import Annotated

from counterpromo_billing import event_applier
from counterpromo_billing.errors import WebhookError
from fastapi import APIRouter, Header, Request
from starlette.concurrency import run_in_threadpool

from counterpromo_api.problems import ApiProblem, error_responses
from counterpromo_api.responses import WebhookAck
from counterpromo_api.services import services_of

router = APIRouter(tags=["webhooks"], responses=error_responses(common=(400, 413, 500, 503)))
log = logging.getLogger("counterpromo_api.webhooks")

RAW_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
        "description": "A Stripe event, exactly as sent (the signature covers the bytes).",
    }
}


@router.post(
    "/webhooks/stripe",
    summary="Stripe events (signed with the webhook secret)",
    description="400 when the signature or body is not valid (nothing stored); 200 once the "
    "event is stored (`duplicate`: it was stored before). The event is applied in the "
    "background, once, re-fetching from Stripe; one that keeps failing is listed by "
    "`counterpromo stripe events list --unprocessed` and replayed from there.",
    openapi_extra=RAW_BODY,
)
async def stripe_webhook(
    request: Request,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> WebhookAck:
    services = services_of(request)
    if services.stripe is None:
        raise ApiProblem(503, "billing-unavailable", "billing is not configured here")
    payload = await request.body()
    try:
        async with services.webhook_intake:
            accepted = await run_in_threadpool(
                event_applier.accept_event,
                services.sessions,
                payload,
                stripe_signature,
                secrets=[s.get_secret_value() for s in services.config.stripe_webhook_secrets],
            )
    except WebhookError as exc:
        raise ApiProblem(400, "webhook-rejected", str(exc)) from exc
    if services.applier is not None and not accepted.duplicate:
        services.applier.nudge()
    log.info(
        "stripe event",
        extra={
            "event_id": accepted.event_id,
            "event_type": accepted.event_type,
            "outcome": "duplicate" if accepted.duplicate else "stored",
        },
    )
    return WebhookAck(
        event_id=accepted.event_id,
        duplicate=accepted.duplicate,
        outcome="duplicate" if accepted.duplicate else "stored",
    )
