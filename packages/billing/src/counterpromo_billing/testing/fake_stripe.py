"""A fake Stripe API over HTTP, for tests of this project and of other teams.

The real ``stripe`` SDK talks to it through ``base_addresses={"api": fake.base_url}``.
State lives in memory behind one lock, so requests from many threads (and the
test-control methods) see a consistent world. Events built here carry a deep
copy of the object as it is at that moment (a snapshot, like Stripe's), while
``GET /v1/subscriptions/{id}`` always answers the current state.
"""

from __future__ import annotations

import contextlib
import copy
import html
import json
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

import stripe
from counterpromo_core.db import models

from counterpromo_billing.clients import connect
from counterpromo_billing.testing import shapes
from counterpromo_billing.testing.fake_http import PAY_PAGE, QuietServer, handler_for, page_html
from counterpromo_billing.testing.fake_params import (
    CHECKOUT_FIELDS,
    CUSTOMER_FIELDS,
    LIST_PARAMS,
    NO_PARAMS,
    SUBSCRIPTION_UPDATE_FIELDS,
    StripeHTTPError,
    check_params,
    form_flag,
    invalid,
    item_price,
    missing,
    page,
    required,
    route_path,
)

DEFAULT_SECRET_KEY = "sk_test_counterpromo_fake"  # noqa: S105 - the fake's own test key
DEFAULT_WEBHOOK_SECRET = "whsec_counterpromo_fake"  # noqa: S105 - the fake's own secret
# The statuses Stripe gives a subscription: the ones our accounts table accepts.
SUBSCRIPTION_STATUSES = frozenset(models.SUBSCRIPTION_STATUSES)


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
        webhook_url: str | None = None,
    ) -> None:
        """``webhook_url``: where paying on the fake's checkout page delivers signed events."""
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
        self.webhook_url = webhook_url
        self._connections: set[socket.socket] = set()
        self._routes: list[tuple[str, re.Pattern[str], Route, frozenset[str]]] = [
            ("POST", route_path(r"/v1/customers"), self._create_customer, CUSTOMER_FIELDS),
            ("GET", route_path(r"/v1/customers"), self._list_customers, LIST_PARAMS | {"email"}),
            ("GET", route_path(r"/v1/customers/([^/]+)"), self._get_customer, NO_PARAMS),
            ("POST", route_path(r"/v1/customers/([^/]+)"), self._update_customer, CUSTOMER_FIELDS),
            ("DELETE", route_path(r"/v1/customers/([^/]+)"), self._delete_customer, NO_PARAMS),
            (
                "POST",
                route_path(r"/v1/checkout/sessions"),
                self._create_checkout_session,
                CHECKOUT_FIELDS,
            ),
            (
                "GET",
                route_path(r"/v1/checkout/sessions"),
                self._list_checkout_sessions,
                LIST_PARAMS | {"customer", "status", "subscription", "payment_intent"},
            ),
            (
                "GET",
                route_path(r"/v1/checkout/sessions/([^/]+)"),
                self._get_checkout_session,
                NO_PARAMS,
            ),
            (
                "POST",
                route_path(r"/v1/checkout/sessions/([^/]+)/expire"),
                self._expire_checkout_session,
                NO_PARAMS,
            ),
            (
                "POST",
                route_path(r"/v1/billing_portal/sessions"),
                self._create_portal_session,
                frozenset({"customer", "return_url", "configuration", "flow_data", "locale"}),
            ),
            (
                "GET",
                route_path(r"/v1/subscriptions"),
                self._list_subscriptions,
                LIST_PARAMS | {"customer", "status", "price"},
            ),
            ("GET", route_path(r"/v1/subscriptions/([^/]+)"), self._get_subscription, NO_PARAMS),
            (
                "POST",
                route_path(r"/v1/subscriptions/([^/]+)"),
                self._post_subscription,
                SUBSCRIPTION_UPDATE_FIELDS,
            ),
            (
                "DELETE",
                route_path(r"/v1/subscriptions/([^/]+)"),
                self._delete_subscription,
                frozenset({"prorate", "invoice_now", "cancellation_details"}),
            ),
        ]

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> str:
        """Start serving in a background thread; returns ``base_url``."""
        if self._server is None:
            self._server = QuietServer(self._address, handler_for(self))
            self._server.daemon_threads = True
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="fake-stripe", daemon=True
            )
            self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving and close every open (keep-alive) connection."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            with self._lock:
                open_connections = list(self._connections)
                self._connections.clear()
            for connection in open_connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    connection.close()
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

    def _track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    @property
    def serving(self) -> bool:
        return self._server is not None

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

    def subscriptions_of(self, customer_id: str) -> list[dict[str, Any]]:
        """Every subscription of the customer (any status), oldest first."""
        with self._lock:
            return copy.deepcopy(
                sorted(
                    (s for s in self._state.subscriptions.values() if s["customer"] == customer_id),
                    key=lambda s: (s["created"], s["id"]),
                )
            )

    def checkout_sessions_of(self, customer_id: str) -> list[dict[str, Any]]:
        """Every Checkout Session of the customer (any status), oldest first."""
        with self._lock:
            return copy.deepcopy(
                sorted(
                    (
                        _public(c)
                        for c in self._state.checkout_sessions.values()
                        if c["customer"] == customer_id
                    ),
                    key=lambda c: (c["created"], c["id"]),
                )
            )

    def public_checkout_session(self, session_id: str) -> dict[str, Any]:
        """The session as the API returns it (for building ``checkout.session.*`` events)."""
        return _public(self.checkout_session(session_id))

    def set_trial_end(self, subscription_id: str, trial_end: int | None) -> dict[str, Any]:
        """Set the subscription's ``trial_start``/``trial_end`` (a trial until ``trial_end``)."""
        with self._lock:
            sub = self._subscription(subscription_id)
            sub["trial_start"] = sub["created"] if trial_end else None
            sub["trial_end"] = trial_end
            return copy.deepcopy(sub)

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

    # -- the hosted checkout page and webhook delivery (for a laptop without Stripe) ----

    def pay(self, session_id: str) -> list[int]:
        """The customer pays on the checkout page: complete, then deliver the events.

        Delivers ``checkout.session.completed``, ``customer.subscription.created`` and
        ``invoice.paid``, signed, to ``webhook_url`` (when set); returns their HTTP statuses.
        """
        sub = self.complete_checkout(session_id)
        events = [
            self.checkout_completed_event(session_id),
            self.subscription_event("customer.subscription.created", sub["id"]),
            self.invoice_event("invoice.paid", sub["id"]),
        ]
        return [self.deliver(event) for event in events] if self.webhook_url else []

    def deliver(self, event: dict[str, Any]) -> int:
        """POST a signed event to ``webhook_url``; the HTTP status (0 when unreachable)."""
        if not self.webhook_url:
            raise RuntimeError("the fake Stripe has no webhook_url to deliver to")
        payload, header = self.sign(event)
        request = urllib.request.Request(  # noqa: S310 - a local http URL we were given
            self.webhook_url,
            data=payload,
            method="POST",
            headers={"Content-Type": "application/json", "Stripe-Signature": header},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except OSError:
            return 0

    def pay_page(self, method: str, session_id: str) -> tuple[int, str, dict[str, str]]:
        """GET: the checkout page with a Pay button; POST: pay, then redirect to success_url."""
        try:
            session = self.checkout_session(session_id)
        except KeyError:
            return 404, page_html("No such checkout session", session_id), {}
        if method == "POST":
            if session["status"] != "open":
                return 409, page_html(f"This checkout session is {session['status']}", ""), {}
            self.pay(session_id)
            target = str(session.get("success_url") or "/")
            return 303, "", {"Location": target.replace("{CHECKOUT_SESSION_ID}", session_id)}
        if session["status"] != "open":
            return 200, page_html(f"This checkout session is {session['status']}", ""), {}
        price = html.escape(str(session["_line_items"][0].get("price", "")))
        form = (
            f"<p>Subscription: <code>{price}</code></p>"
            f'<form method="post"><button type="submit">Pay (test card)</button></form>'
        )
        return 200, page_html("Fake Stripe Checkout", form), {}

    # -- internals (call with the lock held) ---------------------------------------

    def _tick(self) -> int:
        """Stripe time: wall clock, but strictly increasing so events and objects order."""
        self._clock = max(int(time.time()), self._clock + 1)
        return self._clock

    def _customer(self, customer_id: str, *, include_deleted: bool = False) -> dict[str, Any]:
        obj = self._state.customers.get(customer_id)
        if obj is None or (obj.get("deleted") and not include_deleted):
            raise missing("customer", customer_id)
        return obj

    def _subscription(self, subscription_id: str) -> dict[str, Any]:
        obj = self._state.subscriptions.get(subscription_id)
        if obj is None:
            raise missing("subscription", subscription_id)
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
            for route_method, pattern, route, allowed in self._routes:
                match = pattern.match(path)
                if route_method == method and match is not None:
                    expand = check_params(params, allowed)
                    status, body = route(match, params)
                    body = self._expanded(body, expand)
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
        return 200, page(found, params, "/v1/customers")

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
        mode = required(params, "mode")
        if mode not in ("payment", "setup", "subscription"):
            raise StripeHTTPError(
                400, f"Invalid mode: {mode}", code="parameter_invalid_string", param="mode"
            )
        required(params, "success_url")
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
            try:
                self._customer(customer_id)
            except StripeHTTPError:
                raise StripeHTTPError(
                    400,
                    f"No such customer: '{customer_id}'",
                    code="resource_missing",
                    param="customer",
                ) from None
        session_id = shapes.new_id("cs_test_", 58)
        obj = shapes.checkout_session(
            session_id,
            created=self._tick(),
            params=params,
            customer_id=customer_id,
            url=f"{self.base_url}{PAY_PAGE}{session_id}",
        )
        stored = dict(obj)
        stored["_line_items"] = line_items
        sub_data = params.get("subscription_data") or {}
        stored["_subscription_metadata"] = (
            dict(sub_data.get("metadata") or {}) if isinstance(sub_data, dict) else {}
        )
        self._state.checkout_sessions[session_id] = stored
        return 200, obj

    def _expanded(self, body: dict[str, Any], paths: list[str]) -> dict[str, Any]:
        """``expand[]``: replace the ids at each dotted path with the objects they name."""
        if not paths:
            return body
        body = copy.deepcopy(body)
        for index, path in enumerate(paths):
            self._expand_path(body, path.split("."), f"expand[{index}]", path)
        return body

    def _expand_path(self, node: Any, parts: list[str], param: str, path: str) -> None:
        if isinstance(node, dict) and node.get("object") == "list" and parts[0] == "data":
            for child in node["data"]:
                self._expand_path(child, parts[1:], param, path)
            return
        if not isinstance(node, dict) or parts[0] not in node:
            raise invalid(param, f"This property cannot be expanded ({path}).")
        if len(parts) > 1:
            self._expand_path(node[parts[0]], parts[1:], param, path)
            return
        value = node[parts[0]]
        if value is None or isinstance(value, dict):
            return
        found = self._by_id(value) if isinstance(value, str) else None
        if found is None:
            raise invalid(param, f"This property cannot be expanded ({path}).")
        node[parts[0]] = copy.deepcopy(found)

    def _by_id(self, object_id: str) -> dict[str, Any] | None:
        for store in (
            self._state.customers,
            self._state.subscriptions,
            self._state.checkout_sessions,
        ):
            if object_id in store:
                return _public(store[object_id])
        return None

    def _list_checkout_sessions(
        self, _: re.Match[str], params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        status = params.get("status")
        if status is not None and status not in ("open", "complete", "expired"):
            raise invalid("status", f"Invalid status: {status}", "parameter_invalid_string")
        found = [
            _public(c)
            for c in self._state.checkout_sessions.values()
            if (not params.get("customer") or c["customer"] == params["customer"])
            and (not status or c["status"] == status)
            and (not params.get("subscription") or c["subscription"] == params["subscription"])
        ]
        return 200, page(found, params, "/v1/checkout/sessions")

    def _expire_checkout_session(
        self, match: re.Match[str], _: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        stored = self._state.checkout_sessions.get(match.group(1))
        if stored is None:
            raise missing("checkout.session", match.group(1))
        if stored["status"] != "open":
            raise StripeHTTPError(
                400,
                f'Only Checkout Sessions with a status in ["open"] can be expired. '
                f'This Checkout Session has a status of "{stored["status"]}".',
                param="session",
            )
        stored.update(status="expired", url=None)
        return 200, _public(stored)

    def _get_checkout_session(
        self, match: re.Match[str], _: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        stored = self._state.checkout_sessions.get(match.group(1))
        if stored is None:
            raise missing("checkout.session", match.group(1))
        return 200, _public(stored)

    def _create_portal_session(
        self, _: re.Match[str], params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        customer_id = required(params, "customer")
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
        if wanted is not None and wanted not in {"all", "ended", *SUBSCRIPTION_STATUSES}:
            raise invalid("status", f"Invalid status: must be one of all, ended, ... ({wanted})")
        found = [
            s
            for s in self._state.subscriptions.values()
            if (not params.get("customer") or s["customer"] == params["customer"])
            and (not params.get("price") or s["items"]["data"][0]["price"]["id"] == params["price"])
            and (
                wanted == "all"
                or (wanted is None and s["status"] not in ("canceled", "incomplete_expired"))
                or (wanted == "ended" and s["status"] in ("canceled", "incomplete_expired"))
                or s["status"] == wanted
            )
        ]
        return 200, page(found, params, "/v1/subscriptions")

    def _get_subscription(
        self, match: re.Match[str], _: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        return 200, self._subscription(match.group(1))

    def _delete_subscription(
        self, match: re.Match[str], params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        sub = self._subscription(match.group(1))
        if sub["status"] in ("canceled", "incomplete_expired"):
            raise StripeHTTPError(
                400,
                f"A canceled subscription can only update its cancellation_details "
                f"and metadata ({sub['id']}).",
                code="resource_missing",
                param="id",
            )
        form_flag(params, "prorate")
        form_flag(params, "invoice_now")
        return 200, self._cancel(sub["id"])

    def _post_subscription(
        self, match: re.Match[str], params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        """Update: cancel at period end (or not), change the price, metadata."""
        sub = self._subscription(match.group(1))
        if sub["status"] in ("canceled", "incomplete_expired") and set(params) - {
            "metadata",
            "cancellation_details",
            "expand",
        }:
            raise StripeHTTPError(
                400,
                f"A canceled subscription can only update its cancellation_details "
                f"and metadata ({sub['id']}).",
                param="id",
            )
        behavior = params.get("proration_behavior")
        if behavior is not None and behavior not in ("create_prorations", "none", "always_invoice"):
            raise invalid("proration_behavior", f"Invalid proration_behavior: {behavior}")
        price_id = item_price(params, sub)
        cancel = form_flag(params, "cancel_at_period_end")
        if isinstance(params.get("metadata"), dict):
            merged = {**sub["metadata"], **params["metadata"]}
            sub["metadata"] = {k: v for k, v in merged.items() if v != ""}
        self.update_subscription(sub["id"], price_id=price_id, cancel_at_period_end=cancel)
        return 200, sub


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without the fake's private ``_`` fields."""
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def _check_status(status: str) -> None:
    if status not in SUBSCRIPTION_STATUSES:
        raise ValueError(f"not a Stripe subscription status: {status!r}")


__all__ = [
    "DEFAULT_SECRET_KEY",
    "DEFAULT_WEBHOOK_SECRET",
    "FakeStripe",
    "RecordedRequest",
    "StripeHTTPError",
]
