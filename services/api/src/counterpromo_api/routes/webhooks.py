"""``POST /webhooks/stripe``: the raw body goes to billing, which verifies, stores, processes."""

from __future__ import annotations

import logging
from typing import Annotated

from counterpromo_billing import webhooks
from counterpromo_billing.errors import WebhookError
from fastapi import APIRouter, Header, Request
from starlette.concurrency import run_in_threadpool

from counterpromo_api.problems import ApiProblem, error_responses
from counterpromo_api.responses import WebhookAck
from counterpromo_api.routes.billing import stripe_client
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
    description="400 when the signature or body is not valid (nothing stored); 200 for a "
    "processed, ignored, unattributed (not our customer or an unknown price: stored with the "
    "reason, listed by `counterpromo stripe events list --unattributed`) or duplicate event; "
    "500 when processing failed: the event is stored "
    "with its error and Stripe's retry (or `counterpromo` replay) processes it again.",
    openapi_extra=RAW_BODY,
)
async def stripe_webhook(
    request: Request,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> WebhookAck:
    services = services_of(request)
    payload = await request.body()
    client = stripe_client(request)
    try:
        outcome = await run_in_threadpool(
            webhooks.receive_event,
            services.sessions,
            payload,
            stripe_signature,
            secrets=[s.get_secret_value() for s in services.config.stripe_webhook_secrets],
            stripe=client,
            price_map=services.prices,
        )
    except WebhookError as exc:
        raise ApiProblem(400, "webhook-rejected", str(exc)) from exc
    log.info(
        "stripe event",
        extra={
            "event_id": outcome.event_id,
            "event_type": outcome.event_type,
            "outcome": outcome.status,
        },
    )
    if outcome.status == "failed":
        raise ApiProblem(
            500,
            "webhook-processing-failed",
            f"event {outcome.event_id} is stored but its processing failed; it will be retried",
        )
    return WebhookAck(
        event_id=outcome.event_id,
        duplicate=outcome.status == "duplicate",
        outcome=outcome.status,
    )
