"""A fake Stripe API over HTTP, for tests of this project and of other teams.

The real ``stripe`` SDK talks to it through ``base_addresses={"api": fake.base_url}``.
State lives in memory behind one lock, so requests from many threads (and the
test-control methods) see a consistent world. Events built here carry a deep
copy of the object as it is at that moment (a snapshot, like Stripe's), while
``GET /v1/subscriptions/{id}`` always answers the current state.
"""

from __future__ import annotations

import copy
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import stripe
from counterpromo_core.db import models

from counterpromo_billing.clients import connect
from counterpromo_billing.testing import shapes
from counterpromo_billing.testing.forms import FormError, decode_form

DEFAULT_SECRET_KEY = "sk_test_counterpromo_fake"  # noqa: S105 - the fake's own test key
DEFAULT_WEBHOOK_SECRET = "whsec_counterpromo_fake"  # noqa: S105 - the fake's own secret
# The statuses Stripe gives a subscription: the ones our accounts table accepts.
SUBSCRIPTION_STATUSES = frozenset(models.SUBSCRIPTION_STATUSES)


class StripeHTTPError(Exception):
    """Answered to the client as a Stripe-shaped JSON error."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = shapes.error_body(message, error_type=error_type, code=code, param=param)


def _missing(kind: str, object_id: str) -> StripeHTTPError:
    return StripeHTTPError(
        404, f"No such {kind}: '{object_id}'", code="resource_missing", param="id"
    )


def _required(params: dict[str, Any], name: str) -> Any:
    value = params.get(name)
    if value in (None, ""):
        raise StripeHTTPError(
            400, f"Missing required param: {name}.", code="parameter_missing", param=name
        )
    return value


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None


@dataclass
class _State:
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    checkout_sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    portal_sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotent: dict[str, tuple[str, int, dict[str, Any]]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)


Route = Callable[[re.Match[str], dict[str, Any]], tuple[int, dict[str, Any]]]


class FakeStripe:
    """An in-memory Stripe on ``127.0.0.1``, plus controls and a webhook event builder/signer."""

    def __init__(
        self,
        *,
        secret_key: str = DEFAULT_SECRET_KEY,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        # Seconds every API request waits before it is answered (a slow Stripe, for benchmarks
        # and tests of what must not wait on Stripe); settable while serving.
        self.latency = 0.0
        self._address = (host, port)
        self._lock = threading.RLock()
        self._state = _State()
        self._clock = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes: list[tuple[str, re.Pattern[str], Route]] = [
            ("POST", re.compile(r"^/v1/customers$"), self._create_customer),
            ("GET", re.compile(r"^/v1/customers$"), self._list_customers),
            ("GET", re.compile(r"^/v1/customers/([^/]+)$"), self._get_customer),
            ("POST", re.compile(r"^/v1/customers/([^/]+)$"), self._update_customer),
            ("DELETE", re.compile(r"^/v1/customers/([^/]+)$"), self._delete_customer),
            ("POST", re.compile(r"^/v1/checkout/sessions$"), self._create_checkout_session),
            ("GET", re.compile(r"^/v1/checkout/sessions/([^/]+)$"), self._get_checkout_session),
            ("POST", re.compile(r"^/v1/billing_portal/sessions$"), self._create_portal_session),
            ("GET", re.compile(r"^/v1/subscriptions$"), self._list_subscriptions),
            ("GET", re.compile(r"^/v1/subscriptions/([^/]+)$"), self._get_subscription),
            ("DELETE", re.compile(r"^/v1/subscriptions/([^/]+)$"), self._delete_subscription),
        ]

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> str:
        """Start serving in a background thread; returns ``base_url``."""
        if self._server is None:
            self._server = ThreadingHTTPServer(self._address, _handler_for(self))
            self._server.daemon_threads = True
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="fake-stripe", daemon=True
            )
            self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = None
            self._thread = None

    def __enter__(self) -> FakeStripe:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake Stripe is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def client(self, *, max_network_retries: int = 0) -> stripe.StripeClient:
        """A real ``StripeClient`` pointed at this fake."""
        return connect(
            self.secret_key, api_base=self.base_url, max_network_retries=max_network_retries
        )

    def reset(self) -> None:
        """Forget every object, idempotency key and recorded request."""
        with self._lock:
            self._state = _State()

    # -- inspection ----------------------------------------------------------------

    def requests(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """Requests received so far, optionally filtered by method and path prefix."""
        with self._lock:
            return [
                r
                for r in self._state.requests
                if (method is None or r.method == method)
                and (path is None or r.path.startswith(path))
            ]

    def customers(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(
                [c for c in self._state.customers.values() if not c.get("deleted")]
            )

    def customer(self, customer_id: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._customer(customer_id, include_deleted=True))

    def subscription(self, subscription_id: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._subscription(subscription_id))

    def checkout_session(self, session_id: str) -> dict[str, Any]:
        with self._lock:
            session = self._state.checkout_sessions.get(session_id)
            if session is None:
                raise KeyError(session_id)
            return copy.deepcopy(session)

    # -- test controls: change the world as Stripe would ---------------------------

    def create_customer(
        self, *, account_id: str | None = None, name: str | None = None, email: str | None = None
    ) -> dict[str, Any]:
        metadata = {"account_id": account_id} if account_id else {}
        with self._lock:
            obj = self._new_customer({"name": name, "email": email, "metadata": metadata})
            return copy.deepcopy(obj)

    def create_subscription(
        self,
        customer_id: str,
        price_id: str,
        *,
        status: str = "active",
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A subscription of ``customer_id`` to ``price_id`` (one item, monthly)."""
        _check_status(status)
        with self._lock:
            customer = self._customer(customer_id)
            now = self._tick()
            sub_id = shapes.new_id("sub_")
            item = shapes.subscription_item(
                sub_id, shapes.price(price_id, created=now), created=now, period_start=now
            )
            if metadata is None:
                metadata = dict(customer.get("metadata") or {})
            sub = shapes.subscription(
                sub_id,
                customer_id=customer_id,
                item=item,
                status=status,
                created=now,
                metadata=metadata,
            )
            self._state.subscriptions[sub_id] = sub
            return copy.deepcopy(sub)

    def update_subscription(
        self,
        subscription_id: str,
        *,
        price_id: str | None = None,
        status: str | None = None,
        cancel_at_period_end: bool | None = None,
    ) -> dict[str, Any]:
        """Change the price, status or cancel-at-period-end of a subscription."""
        with self._lock:
            sub = self._subscription(subscription_id)
            now = self._tick()
            if price_id is not None:
                item = sub["items"]["data"][0]
                item["price"] = shapes.price(price_id, created=now)
                item["plan"]["id"] = price_id
            if status is not None:
                _check_status(status)
                sub["status"] = status
            if cancel_at_period_end is not None:
                sub["cancel_at_period_end"] = cancel_at_period_end
                sub["cancel_at"] = (
                    sub["items"]["data"][0]["current_period_end"] if cancel_at_period_end else None
                )
            return copy.deepcopy(sub)

    def cancel_subscription(self, subscription_id: str) -> dict[str, Any]:
        """Cancel now (what ``customer.subscription.deleted`` reports)."""
        with self._lock:
            return copy.deepcopy(self._cancel(subscription_id))

    def advance_period(self, subscription_id: str) -> dict[str, Any]:
        """Start the subscription's next monthly period."""
        with self._lock:
            sub = self._subscription(subscription_id)
            item = sub["items"]["data"][0]
            item["current_period_start"] = item["current_period_end"]
            item["current_period_end"] = item["current_period_end"] + shapes.PERIOD
            return copy.deepcopy(sub)

    def complete_checkout(self, session_id: str, *, status: str = "active") -> dict[str, Any]:
        """The customer pays: the session completes and its subscription starts."""
        with self._lock:
            session = self._state.checkout_sessions.get(session_id)
            if session is None:
                raise KeyError(session_id)
            if session["status"] != "open":
                raise ValueError(f"checkout session {session_id} is {session['status']}")
            customer_id = session["customer"]
            if customer_id is None:
                customer_id = self._new_customer({"email": session["customer_email"]})["id"]
            line = session["_line_items"][0]
            sub = self.create_subscription(
                customer_id,
                line["price"],
                status=status,
                metadata=session["_subscription_metadata"],
            )
            session.update(
                customer=customer_id,
                subscription=sub["id"],
                status="complete",
                payment_status="paid",
            )
            return sub

    # -- webhook events ------------------------------------------------------------

    def event(
        self,
        event_type: str,
        obj: dict[str, Any],
        *,
        previous_attributes: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """An event of ``event_type`` carrying a copy of ``obj``."""
        with self._lock:
            return shapes.event(
                shapes.new_id("evt_"),
                event_type=event_type,
                obj=copy.deepcopy(obj),
                created=self._tick(),
                api_version=stripe.api_version,
                previous_attributes=previous_attributes,
            )

    def subscription_event(
        self,
        event_type: str,
        subscription_id: str,
        *,
        previous_attributes: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``customer.subscription.*`` with the subscription as it is now."""
        return self.event(
            event_type, self.subscription(subscription_id), previous_attributes=previous_attributes
        )

    def checkout_completed_event(self, session_id: str) -> dict[str, Any]:
        """``checkout.session.completed`` for a session (complete it first)."""
        with self._lock:
            session = {
                k: v for k, v in self.checkout_session(session_id).items() if not k.startswith("_")
            }
        return self.event("checkout.session.completed", session)

    def invoice_event(self, event_type: str, subscription_id: str) -> dict[str, Any]:
        """``invoice.paid`` / ``invoice.payment_failed`` for the subscription's current period."""
        paid = event_type in ("invoice.paid", "invoice.payment_succeeded")
        with self._lock:
            obj = shapes.invoice(
                shapes.new_id("in_"),
                subscription_obj=self._subscription(subscription_id),
                created=self._tick(),
                paid=paid,
            )
        return self.event(event_type, obj)

    def sign(
        self,
        event: dict[str, Any] | bytes,
        secret: str | None = None,
        *,
        timestamp: int | None = None,
    ) -> tuple[bytes, str]:
        """(payload bytes, ``Stripe-Signature`` header) as Stripe would send them."""
        payload = event if isinstance(event, bytes) else json.dumps(event, indent=2).encode()
        header = stripe.WebhookSignature.generate_signature_header(
            payload.decode(),
            secret or self.webhook_secret,
            timestamp=int(time.time()) if timestamp is None else timestamp,
        )
        return payload, header

    # -- internals (call with the lock held) ---------------------------------------

    def _tick(self) -> int:
        """Stripe time: wall clock, but strictly increasing so events and objects order."""
        self._clock = max(int(time.time()), self._clock + 1)
        return self._clock

    def _customer(self, customer_id: str, *, include_deleted: bool = False) -> dict[str, Any]:
        obj = self._state.customers.get(customer_id)
        if obj is None or (obj.get("deleted") and not include_deleted):
            raise _missing("customer", customer_id)
        return obj

    def _subscription(self, subscription_id: str) -> dict[str, Any]:
        obj = self._state.subscriptions.get(subscription_id)
        if obj is None:
            raise _missing("subscription", subscription_id)
        return obj

    def _new_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        obj = shapes.customer(
            shapes.new_id("cus_", 14),
            created=self._tick(),
            name=params.get("name"),
            email=params.get("email"),
            metadata=dict(params.get("metadata") or {}),
        )
        self._state.customers[obj["id"]] = obj
        return obj

    def _cancel(self, subscription_id: str) -> dict[str, Any]:
        sub = self._subscription(subscription_id)
        now = self._tick()
        sub.update(status="canceled", canceled_at=now, ended_at=now, cancel_at_period_end=False)
        return sub

    def handle(
        self,
        method: str,
        path: str,
        params: dict[str, Any],
        *,
        api_key: str | None,
        idempotency_key: str | None,
    ) -> tuple[int, dict[str, Any], bool]:
        """One API request: (status, JSON body, replayed from an idempotency key)."""
        if api_key != self.secret_key:
            shown = (api_key or "")[:12]
            raise StripeHTTPError(401, f"Invalid API Key provided: {shown}***")
        with self._lock:
            self._state.requests.append(RecordedRequest(method, path, params, idempotency_key))
            fingerprint = json.dumps([method, path, params], sort_keys=True)
            if method == "POST" and idempotency_key:
                cached = self._state.idempotent.get(idempotency_key)
                if cached is not None:
                    if cached[0] != fingerprint:
                        raise StripeHTTPError(
                            400,
                            "Keys for idempotent requests can only be used with the same "
                            "parameters they were first used with.",
                            error_type="idempotency_error",
                        )
                    return cached[1], copy.deepcopy(cached[2]), True
            for route_method, pattern, route in self._routes:
                match = pattern.match(path)
                if route_method == method and match is not None:
                    status, body = route(match, params)
                    break
            else:
                raise StripeHTTPError(
                    404,
                    f"Unrecognized request URL ({method}: {path}).",
                    error_type="invalid_request_error",
                )
            if method == "POST" and idempotency_key:
                self._state.idempotent[idempotency_key] = (fingerprint, status, copy.deepcopy(body))
            return status, copy.deepcopy(body), False

    # -- routes ------------------------------------------------------------------------

    def _create_customer(
        self, _: re.Match[str], params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        return 200, self._new_customer(params)

    def _list_customers(
        self, _: re.Match[str], params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        found = [
            c
            for c in self._state.customers.values()
            if not c.get("deleted") and (not params.get("email") or c["email"] == params["email"])
        ]
        limit = int(params.get("limit") or 10)
        return 200, _list(
            sorted(found, key=lambda c: -c["created"])[:limit], "/v1/customers", len(found) > limit
        )

    def _get_customer(self, match: re.Match[str], _: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 200, self._customer(match.group(1), include_deleted=True)

    def _update_customer(
        self, match: re.Match[str], params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        obj = self._customer(match.group(1))
        for name in ("name", "email", "description", "phone"):
            if name in params:
                obj[name] = params[name] or None
        if isinstance(params.get("metadata"), dict):
            obj["metadata"].update(params["metadata"])
            obj["metadata"] = {k: v for k, v in obj["metadata"].items() if v != ""}
        return 200, obj

    def _delete_customer(
        self, match: re.Match[str], _: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        customer_id = match.group(1)
        self._customer(customer_id)
        self._state.customers[customer_id] = shapes.deleted_customer(customer_id)
        return 200, self._state.customers[customer_id]

    def _create_checkout_session(
        self, _: re.Match[str], params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        mode = _required(params, "mode")
        if mode not in ("payment", "setup", "subscription"):
            raise StripeHTTPError(
                400, f"Invalid mode: {mode}", code="parameter_invalid_string", param="mode"
            )
        _required(params, "success_url")
        line_items = params.get("line_items") or []
        if mode == "subscription":
            if not isinstance(line_items, list) or not line_items:
                raise StripeHTTPError(
                    400,
                    "line_items is required in subscription mode.",
                    code="parameter_missing",
                    param="line_items",
                )
            for index, line in enumerate(line_items):
                if not isinstance(line, dict) or not str(line.get("price", "")).startswith(
                    "price_"
                ):
                    raise StripeHTTPError(
                        400,
                        "No such price",
                        code="resource_missing",
                        param=f"line_items[{index}][price]",
                    )
        customer_id = params.get("customer") or None
        if customer_id is not None:
            self._customer(customer_id)
        session_id = shapes.new_id("cs_test_", 58)
        obj = shapes.checkout_session(
            session_id, created=self._tick(), params=params, customer_id=customer_id
        )
        stored = dict(obj)
        stored["_line_items"] = line_items
        sub_data = params.get("subscription_data") or {}
        stored["_subscription_metadata"] = (
            dict(sub_data.get("metadata") or {}) if isinstance(sub_data, dict) else {}
        )
        self._state.checkout_sessions[session_id] = stored
        return 200, obj

    def _get_checkout_session(
        self, match: re.Match[str], _: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        stored = self._state.checkout_sessions.get(match.group(1))
        if stored is None:
            raise _missing("checkout.session", match.group(1))
        return 200, {k: v for k, v in stored.items() if not k.startswith("_")}

    def _create_portal_session(
        self, _: re.Match[str], params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        customer_id = _required(params, "customer")
        self._customer(customer_id)
        obj = shapes.portal_session(
            shapes.new_id("bps_"),
            created=self._tick(),
            customer_id=customer_id,
            return_url=params.get("return_url"),
        )
        self._state.portal_sessions[obj["id"]] = obj
        return 200, obj

    def _list_subscriptions(
        self, _: re.Match[str], params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        wanted = params.get("status")
        found = [
            s
            for s in self._state.subscriptions.values()
            if (not params.get("customer") or s["customer"] == params["customer"])
            and (
                wanted == "all"
                or (wanted is None and s["status"] != "canceled")
                or s["status"] == wanted
            )
        ]
        limit = int(params.get("limit") or 10)
        return 200, _list(
            sorted(found, key=lambda s: -s["created"])[:limit],
            "/v1/subscriptions",
            len(found) > limit,
        )

    def _get_subscription(
        self, match: re.Match[str], _: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        return 200, self._subscription(match.group(1))

    def _delete_subscription(
        self, match: re.Match[str], _: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        return 200, self._cancel(match.group(1))


def _list(data: list[dict[str, Any]], url: str, has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def _check_status(status: str) -> None:
    if status not in SUBSCRIPTION_STATUSES:
        raise ValueError(f"not a Stripe subscription status: {status!r}")


def _handler_for(fake: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "FakeStripe/1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in separate writes: without this, Nagle's
            # algorithm and the client's delayed ACK add ~40 ms to every response.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _serve(self) -> None:
            if fake.latency > 0:
                time.sleep(fake.latency)
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            auth = self.headers.get("Authorization") or ""
            api_key = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else None
            replayed = False
            try:
                params = decode_form(url.query if self.command in ("GET", "DELETE") else body)
                status, payload, replayed = fake.handle(
                    self.command,
                    url.path,
                    params,
                    api_key=api_key,
                    idempotency_key=self.headers.get("Idempotency-Key"),
                )
            except StripeHTTPError as exc:
                status, payload = exc.status, exc.body
            except FormError as exc:
                status, payload = 400, shapes.error_body(str(exc))
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", f"req_{uuid.uuid4().hex[:14]}")
            if replayed:
                self.send_header("Idempotent-Replayed", "true")
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _serve  # noqa: N815 - http.server's naming

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read the recorded requests instead."""

    return Handler


__all__ = [
    "DEFAULT_SECRET_KEY",
    "DEFAULT_WEBHOOK_SECRET",
    "FakeStripe",
    "RecordedRequest",
    "StripeHTTPError",
]
