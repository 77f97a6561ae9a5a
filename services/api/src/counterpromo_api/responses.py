"""Response bodies. Built from ORM rows (``from_attributes``); money is a decimal string."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

T = TypeVar("T")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PageOut(Out, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class AccountOut(Out):
    id: uuid.UUID
    name: str
    currency: str = Field(description="ISO 4217 code of the account's prices.")
    locale: str = Field(description="BCP 47 locale the account's prices are written in.")
    plan_code: str
    subscription_status: str | None
    created_at: dt.datetime


class MemberOut(Out):
    id: uuid.UUID
    email: str
    role: str
    external_subject: str | None
    created_at: dt.datetime


class ApiKeyOut(Out):
    id: uuid.UUID
    name: str
    role: str
    prefix: str
    member_id: uuid.UUID | None
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="The API key. Shown this once only: store it now.")


class PlanOut(Out):
    code: str
    name: str
    price_monthly: Decimal
    currency: str
    max_promos_per_month: int | None = Field(description="null means unlimited")
    max_renders_per_month: int | None
    max_branches: int | None
    max_seats: int | None
    watermark: bool
    branch_packs: bool
    coop_report: bool


class MetricUsageOut(Out):
    used: int
    limit: int | None = Field(description="null means unlimited")


class EntitlementsOut(Out):
    plan_code: str
    plan_name: str
    watermark: bool
    branch_packs: bool
    coop_report: bool
    max_branches: int | None
    max_seats: int | None


class UsageOut(Out):
    month: dt.date
    period_start: dt.datetime
    resets_at: dt.datetime
    plan_code: str
    counters: dict[str, MetricUsageOut]
    entitlements: EntitlementsOut


class ItemOut(Out):
    id: uuid.UUID
    position: int
    sku: str | None
    name: str
    sale_price: Decimal | None
    rrp: Decimal | None
    unit: str | None
    category: str | None
    vendor: str | None
    image_asset_id: uuid.UUID | None
    coop_vendor: str | None
    coop_amount: Decimal | None
    coop_note: str | None


class PromoSummaryOut(Out):
    id: uuid.UUID
    title: str
    subhead: str | None
    cta: str | None
    template: str
    status: str
    version: int = Field(description='Send back in If-Match (the ETag is W/"<version>").')
    created_at: dt.datetime
    updated_at: dt.datetime


class PromoOut(PromoSummaryOut):
    items: list[ItemOut]


class BrandKitOut(Out):
    primary_color: str | None = None
    secondary_color: str | None = None
    accent_color: str | None = None
    font: str | None = None
    strapline: str | None = None
    default_cta: str | None = None
    logo_asset_id: uuid.UUID | None = None
    updated_at: dt.datetime | None = Field(default=None, description="null: no kit saved yet")


class BranchOut(Out):
    id: uuid.UUID
    name: str
    address: str | None
    phone: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class UploadOut(Out):
    id: uuid.UUID
    promo_id: uuid.UUID | None
    filename: str
    content_type: str
    max_bytes: int
    status: str
    error: str | None
    created_at: dt.datetime


class PresignedPostOut(BaseModel):
    url: str = Field(description="POST a multipart form here: the fields, then `file`.")
    fields: dict[str, str]
    expires_at: dt.datetime


class UploadCreatedOut(Out):
    upload: UploadOut
    form: PresignedPostOut


class JobOut(Out):
    id: uuid.UUID
    type: str
    status: str
    promo_id: uuid.UUID | None
    result: dict[str, object] | None
    error: str | None
    attempts: int
    created_at: dt.datetime
    updated_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class AssetOut(Out):
    id: uuid.UUID
    promo_id: uuid.UUID | None
    job_id: uuid.UUID | None
    branch_id: uuid.UUID | None
    kind: str
    content_type: str
    size_bytes: int
    checksum_sha256: str
    created_at: dt.datetime


class CheckoutOut(Out):
    url: str = Field(description="Send the user here to pay (Stripe Checkout).")
    session_id: str


class PortalOut(Out):
    url: str = Field(description="Send the user here to manage the subscription.")


class BillingOut(Out):
    plan_code: str
    subscription_status: str | None = Field(
        description="Stripe's status: active, trialing, past_due, unpaid, canceled, ..."
    )
    current_period_end: dt.datetime | None
    cancel_at_period_end: bool
    ends_at: dt.datetime | None = Field(
        description="When the paid plan stops (set when it is cancelled at the period's end)."
    )
    trial_end: dt.datetime | None
    grace_until: dt.datetime | None = Field(
        description="past_due: the plan drops to free at this time unless the invoice is paid."
    )
    payment_failed_at: dt.datetime | None = Field(description="The last failed payment.")
    has_billing_account: bool


class WebhookAck(BaseModel):
    received: Literal[True] = True
    event_id: str | None = None
    duplicate: bool = False
    outcome: str | None = Field(
        default=None,
        description="stored (applied in the background: processed, ignored or unattributed, "
        "see `counterpromo stripe events list`) or duplicate (stored before).",
    )


class HealthOut(BaseModel):
    status: Literal["ok"] = "ok"


class ReadyOut(BaseModel):
    status: Literal["ready"] = "ready"
    checks: dict[str, str]


def model_response(model: BaseModel, *, status_code: int = 200) -> Response:
    """``model`` as the JSON body, serialized once, here.

    For routes that declare ``response_model`` (the OpenAPI document is unchanged) and build
    the model themselves from validated data: returned as a model, FastAPI would validate it
    a second time (for a sync route, in one more threadpool hop) before serializing it.
    """
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")
