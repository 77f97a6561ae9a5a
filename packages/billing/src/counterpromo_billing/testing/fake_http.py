"""The fake Stripe's HTTP side: the request handler and the hosted checkout page's HTML."""

from __future__ import annotations

import contextlib
import html
import json
import socket
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from counterpromo_billing.testing import shapes
from counterpromo_billing.testing.fake_params import StripeHTTPError
from counterpromo_billing.testing.forms import FormError, decode_form

if TYPE_CHECKING:
    from counterpromo_billing.testing.fake_stripe import FakeStripe

PAY_PAGE = "/c/pay/"  # the fake's hosted checkout page: GET shows it, POST pays


def page_html(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


class QuietServer(ThreadingHTTPServer):
    """A connection the client (or ``stop()``) closed is not an error worth a traceback."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


def handler_for(fake: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "FakeStripe/1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in separate writes: without this, Nagle's
            # algorithm and the client's delayed ACK add ~40 ms to every response.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            fake._track(self.connection, open_=True)

        def finish(self) -> None:
            fake._track(self.connection, open_=False)
            with contextlib.suppress(OSError):
                super().finish()

        def _send(
            self, status: int, data: bytes, content_type: str, headers: dict[str, str]
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            if not fake.serving:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(data)

        def _serve(self) -> None:
            if fake.latency > 0:
                time.sleep(fake.latency)
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            if url.path.startswith(PAY_PAGE):
                status, page, headers = fake.pay_page(self.command, url.path.removeprefix(PAY_PAGE))
                self._send(status, page.encode(), "text/html; charset=utf-8", headers)
                return
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
            except Exception as exc:  # noqa: BLE001 - a bug in the fake: a 500, never a hang-up
                status = 500
                payload = shapes.error_body(
                    f"fake Stripe error: {type(exc).__name__}: {exc}", error_type="api_error"
                )
            headers = {"Request-Id": f"req_{uuid.uuid4().hex[:14]}"}
            if replayed:
                headers["Idempotent-Replayed"] = "true"
            self._send(status, json.dumps(payload).encode(), "application/json", headers)

        do_GET = do_POST = do_DELETE = _serve  # noqa: N815 - http.server's naming

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read the recorded requests instead."""

    return Handler


__all__ = ["PAY_PAGE", "QuietServer", "handler_for", "page_html"]
