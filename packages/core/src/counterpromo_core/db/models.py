"""The database schema as typed SQLAlchemy 2 models.

Migrations (``counterpromo_core/migrations``) are the only way the schema
changes; a test compares what they build with these models.

Rules the schema enforces: UUID keys, UTC timestamps, ``account_id`` on every
tenant row, money as ``numeric``, counters that can never go negative, one
usage row per account and month, one Stripe id per account.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(12, 2)

PROMO_STATUSES = ("draft", "ready", "archived")
PROMO_TEMPLATES = ("multi-product", "bold", "clearance", "modern", "vendor-spotlight")
MEMBER_ROLES = ("owner", "admin", "member")
JOB_TYPES = ("parse_upload", "render_promo", "export_bundle", "coop_report", "process_image")
JOB_STATUSES = ("queued", "running", "succeeded", "failed", "dead")
UPLOAD_STATUSES = ("pending", "parsing", "parsed", "failed")
ASSET_KINDS = ("pdf", "png", "zip", "csv", "logo", "image")
SUBSCRIPTION_STATUSES = (
    "incomplete",
    "incomplete_expired",
    "trialing",
    "active",
    "past_due",
    "canceled",
    "unpaid",
    "paused",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012
        uuid.UUID: UUID(as_uuid=True),
        dt.datetime: DateTime(timezone=True),
        dt.date: Date(),
        Decimal: Money,
        dict[str, Any]: JSONB,
    }


def _uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(primary_key=True, default=uuid.uuid4)


def _created_at() -> Mapped[dt.datetime]:
    return mapped_column(server_default=func.now(), default=utcnow)


def _account_fk() -> Mapped[uuid.UUID]:
    return mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)


class BillingPlan(Base):
    __tablename__ = "billing_plans"
    __table_args__ = (
        CheckConstraint("max_promos_per_month IS NULL OR max_promos_per_month >= 0", name="promos"),
        CheckConstraint(
            "max_renders_per_month IS NULL OR max_renders_per_month >= 0", name="renders"
        ),
        CheckConstraint("max_branches IS NULL OR max_branches >= 0", name="branches"),
        CheckConstraint("max_seats IS NULL OR max_seats >= 0", name="seats"),
        CheckConstraint("price_monthly >= 0", name="price"),
    )

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    price_monthly: Mapped[Decimal] = mapped_column(server_default=text("0"))
    currency: Mapped[str] = mapped_column(String(3), server_default=text("'gbp'"))
    # NULL means unlimited.
    max_promos_per_month: Mapped[int | None]
    max_renders_per_month: Mapped[int | None]
    max_branches: Mapped[int | None]
    max_seats: Mapped[int | None]
    watermark: Mapped[bool] = mapped_column(server_default=text("false"))
    branch_packs: Mapped[bool] = mapped_column(server_default=text("false"))
    coop_report: Mapped[bool] = mapped_column(server_default=text("false"))
    sort_order: Mapped[int] = mapped_column(server_default=text("0"))


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(
            "subscription_status IS NULL OR " + _in("subscription_status", SUBSCRIPTION_STATUSES),
            name="subscription_status",
        ),
        CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso_4217"),
        CheckConstraint("length(locale) BETWEEN 2 AND 35", name="locale_length"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(String(200))
    # How the account's flyers and reports write money: ISO 4217 code and BCP 47 locale,
    # chosen at creation (no default), validated with Babel by counterpromo_core.money.
    currency: Mapped[str] = mapped_column(String(3))
    locale: Mapped[str] = mapped_column(String(35))
    plan_code: Mapped[str] = mapped_column(
        ForeignKey("billing_plans.code"), server_default=text("'free'")
    )
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    subscription_status: Mapped[str | None] = mapped_column(String(32))
    current_period_end: Mapped[dt.datetime | None]
    cancel_at_period_end: Mapped[bool] = mapped_column(server_default=text("false"))
    # Stripe's timestamp of the newest subscription state applied, so an older
    # event delivered late never overwrites newer state.
    billing_state_at: Mapped[dt.datetime | None]
    # The subscription's trial end; when it was first seen past_due (the grace period
    # counts from there); the last failed invoice payment.
    trial_end: Mapped[dt.datetime | None]
    past_due_since: Mapped[dt.datetime | None]
    payment_failed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = _created_at()
    updated_at: Mapped[dt.datetime] = _created_at()

    plan: Mapped[BillingPlan] = relationship(lazy="joined")


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint(_in("role", MEMBER_ROLES), name="role"),
        CheckConstraint("position('@' in email) > 1", name="email"),
        UniqueConstraint("account_id", "email"),
        UniqueConstraint("account_id", "external_subject"),
        Index(None, "external_subject"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    account_id: Mapped[uuid.UUID] = _account_fk()
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))
    external_subject: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = _created_at()


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint(_in("role", MEMBER_ROLES), name="role"),)

    id: Mapped[uuid.UUID] = _uuid_pk()
    account_id: Mapped[uuid.UUID] = _account_fk()
    member_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    # The public lookup part of the key; the secret part is only stored hashed.
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = _created_at()
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


class UsageMonthly(Base):
    __tablename__ = "usage_monthly"
    __table_args__ = (
        UniqueConstraint("account_id", "month"),
        CheckConstraint("promos_created >= 0", name="promos_created"),
        CheckConstraint("renders >= 0", name="renders"),
        CheckConstraint("extract(day from month) = 1", name="month_first_day"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    month: Mapped[dt.date]
    promos_created: Mapped[int] = mapped_column(server_default=text("0"))
    renders: Mapped[int] = mapped_column(server_default=text("0"))
    updated_at: Mapped[dt.datetime] = _created_at()


class Promo(Base):
    __tablename__ = "promos"
    __table_args__ = (
        CheckConstraint(_in("status", PROMO_STATUSES), name="status"),
        CheckConstraint(_in("template", PROMO_TEMPLATES), name="template"),
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint("length(trim(title)) > 0", name="title_not_blank"),
        Index(None, "account_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    subhead: Mapped[str | None] = mapped_column(String(300))
    cta: Mapped[str | None] = mapped_column(String(200))
    template: Mapped[str] = mapped_column(String(32), server_default=text("'multi-product'"))
    status: Mapped[str] = mapped_column(String(16), server_default=text("'draft'"))
    version: Mapped[int] = mapped_column(server_default=text("1"))
    # Search words the original application kept per promo (carried by legacy adoption).
    keywords: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    created_at: Mapped[dt.datetime] = _created_at()
    updated_at: Mapped[dt.datetime] = _created_at()

    items: Mapped[list[PromoItem]] = relationship(
        order_by="PromoItem.position", cascade="all, delete-orphan", passive_deletes=True
    )


class PromoItem(Base):
    __tablename__ = "promo_items"
    __table_args__ = (
        # Deferred so a reorder can swap positions inside one transaction.
        UniqueConstraint("promo_id", "position", deferrable=True, initially="DEFERRED"),
        CheckConstraint("position >= 0", name="position"),
        CheckConstraint("sale_price IS NULL OR sale_price >= 0", name="sale_price"),
        CheckConstraint("rrp IS NULL OR rrp >= 0", name="rrp"),
        CheckConstraint("coop_amount IS NULL OR coop_amount >= 0", name="coop_amount"),
        Index(None, "account_id"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    promo_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("promos.id", ondelete="CASCADE"))
    position: Mapped[int]
    sku: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    sale_price: Mapped[Decimal | None]
    rrp: Mapped[Decimal | None]
    unit: Mapped[str | None] = mapped_column(String(50))
    category: Mapped[str | None] = mapped_column(String(100))
    vendor: Mapped[str | None] = mapped_column(String(200))
    image_asset_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("assets.id", ondelete="SET NULL")
    )
    coop_vendor: Mapped[str | None] = mapped_column(String(200))
    coop_amount: Mapped[Decimal | None]
    coop_note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = _created_at()
    updated_at: Mapped[dt.datetime] = _created_at()


class BrandKit(Base):
    __tablename__ = "brand_kits"
    __table_args__ = tuple(
        CheckConstraint(f"{c} IS NULL OR {c} ~ '^#[0-9A-Fa-f]{{6}}$'", name=c)
        for c in ("primary_color", "secondary_color", "accent_color")
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    logo_asset_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("assets.id", ondelete="SET NULL")
    )
    primary_color: Mapped[str | None] = mapped_column(String(7))
    secondary_color: Mapped[str | None] = mapped_column(String(7))
    accent_color: Mapped[str | None] = mapped_column(String(7))
    font: Mapped[str | None] = mapped_column(String(100))
    strapline: Mapped[str | None] = mapped_column(String(300))
    default_cta: Mapped[str | None] = mapped_column(String(200))
    # As the original application kept them: a URL or S3 key, not an asset.
    logo_url: Mapped[str | None] = mapped_column(String(2048))
    website_url: Mapped[str | None] = mapped_column(String(2048))
    updated_at: Mapped[dt.datetime] = _created_at()


class Branch(Base):
    __tablename__ = "branches"
    __table_args__ = (UniqueConstraint("account_id", "name"),)

    id: Mapped[uuid.UUID] = _uuid_pk()
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(500))
    phone: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[dt.datetime] = _created_at()
    updated_at: Mapped[dt.datetime] = _created_at()


class Upload(Base):
    __tablename__ = "uploads"
    __table_args__ = (
        CheckConstraint(_in("status", UPLOAD_STATUSES), name="status"),
        CheckConstraint("max_bytes > 0", name="max_bytes"),
        UniqueConstraint("bucket", "key"),
        Index(None, "account_id"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    promo_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("promos.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    max_bytes: Mapped[int] = mapped_column(BigInteger)
    bucket: Mapped[str] = mapped_column(String(255))
    key: Mapped[str] = mapped_column(String(1024))
    status: Mapped[str] = mapped_column(String(16), server_default=text("'pending'"))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _created_at()


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(_in("type", JOB_TYPES), name="type"),
        CheckConstraint(_in("status", JOB_STATUSES), name="status"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index(None, "account_id", "created_at"),
        Index(None, "status", "updated_at"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    promo_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("promos.id", ondelete="SET NULL"), index=True
    )
    type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), server_default=text("'queued'"))
    payload: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    result: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # The X-Request-Id of the API request that created the job (None outside a request).
    request_id: Mapped[str | None] = mapped_column(String(64))
    # Set once, by the statement that counts the job's usage, so a redelivery never counts twice.
    usage_counted_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = _created_at()
    updated_at: Mapped[dt.datetime] = _created_at()
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]


class OutboxMessage(Base):
    """A job message waiting to be sent to SQS, written with the job row.

    ``sent_at`` is NULL until a sender has handed it to the queue; the sweeper
    re-sends rows that stay unsent (or whose job never started).
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint("send_attempts >= 0", name="send_attempts"),
        Index("ix_outbox_messages_unsent", "created_at", postgresql_where=text("sent_at IS NULL")),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    job_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("jobs.id", ondelete="CASCADE"), unique=True
    )
    body: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime] = _created_at()
    sent_at: Mapped[dt.datetime | None]
    send_attempts: Mapped[int] = mapped_column(server_default=text("0"))


class Asset(Base):
    __tablename__ = "assets"
    __table_args__ = (
        CheckConstraint(_in("kind", ASSET_KINDS), name="kind"),
        CheckConstraint("size_bytes >= 0", name="size_bytes"),
        # Outputs go to deterministic keys: a retried job overwrites its row.
        UniqueConstraint("bucket", "key"),
        Index(None, "account_id", "promo_id"),
        Index(None, "job_id"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    promo_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("promos.id", ondelete="CASCADE"))
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    branch_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("branches.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(16))
    bucket: Mapped[str] = mapped_column(String(255))
    key: Mapped[str] = mapped_column(String(1024))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    checksum_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = _created_at()


class StripeEvent(Base):
    __tablename__ = "stripe_events"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts"),
        Index(None, "type", "created"),
        Index(
            "ix_stripe_events_unattributed",
            "received_at",
            postgresql_where=text("ignored_reason IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    created: Mapped[dt.datetime]
    payload: Mapped[dict[str, Any]]
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    received_at: Mapped[dt.datetime] = _created_at()
    processed_at: Mapped[dt.datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(server_default=text("0"))
    # Why a stored event changed nothing (unattributed: not our customer, unknown price).
    ignored_reason: Mapped[str | None] = mapped_column(Text)


class IdempotencyKey(Base):
    """The first response to a POST that carried an ``Idempotency-Key``."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("account_id", "key"), Index(None, "created_at"))

    id: Mapped[uuid.UUID] = _uuid_pk()
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None]
    response_body: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime] = _created_at()


class AuditEvent(Base):
    """Operator and support actions (e.g. a plan set by hand), recorded as such."""

    __tablename__ = "audit_events"

    id: Mapped[uuid.UUID] = _uuid_pk()
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    created_at: Mapped[dt.datetime] = _created_at()


class LegacyId(Base):
    """An object carried from the original application: its TEXT id there, its UUID here.

    ``source_table`` is the original table (``accounts``, ``promo_items``...); the
    original rows stay in the ``legacy`` schema. A second adoption skips every id
    listed here, so it changes nothing.
    """

    __tablename__ = "legacy_ids"
    __table_args__ = (UniqueConstraint("source_table", "new_id"),)

    source_table: Mapped[str] = mapped_column(String(40), primary_key=True)
    legacy_id: Mapped[str] = mapped_column(Text, primary_key=True)
    new_id: Mapped[uuid.UUID]
    adopted_at: Mapped[dt.datetime] = _created_at()


__all__ = [
    "Account",
    "ApiKey",
    "Asset",
    "AuditEvent",
    "Base",
    "BillingPlan",
    "Branch",
    "BrandKit",
    "IdempotencyKey",
    "Job",
    "LegacyId",
    "Member",
    "OutboxMessage",
    "Promo",
    "PromoItem",
    "StripeEvent",
    "Upload",
    "UsageMonthly",
    "utcnow",
]
