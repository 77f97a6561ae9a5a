"""The demo, told through the public HTTP API: upload a CSV, parse, render, download.

Only what any API consumer could do; the server does the work.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

JOB_TIMEOUT = 180.0
POLL_SECONDS = 0.5


class DemoError(Exception):
    """A step of the demo failed; the message says which and why."""


@dataclass(frozen=True)
class DemoResult:
    promo_id: str
    items: int
    files: list[Path]


def _problem(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    detail = body.get("detail") or body.get("title") if isinstance(body, dict) else None
    return f"HTTP {response.status_code}: {detail or body}"


class DemoClient:
    def __init__(self, api_url: str, api_key: str, *, timeout: float = 30) -> None:
        self._http = httpx.Client(
            base_url=api_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout,
        )

    def close(self) -> None:
        self._http.close()

    def _call(self, step: str, method: str, url: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise DemoError(
                f"{step}: cannot reach the API at {self._http.base_url}: {exc}"
            ) from None
        if response.status_code >= 400:
            raise DemoError(f"{step}: {_problem(response)}")
        return response

    def subscribe(self, plan_code: str) -> dict[str, Any]:
        """Checkout ``plan_code`` and, on the local stack's fake Stripe, press Pay.

        Returns ``GET /v1/billing`` afterwards. With the real Stripe the checkout page
        needs a person: ``DemoError`` names the URL to open.
        """
        started = self._call(
            "checkout", "POST", "/v1/billing/checkout", json={"plan_code": plan_code}
        ).json()
        url = str(started["url"])
        try:
            page = httpx.get(url, timeout=10)
            paid = httpx.post(url, timeout=60) if "<form" in page.text else None
        except httpx.HTTPError:
            paid = None
        if paid is None or paid.status_code != 303:
            raise DemoError(f"checkout: open {url} in a browser to pay (not the fake Stripe)")
        # The API acknowledges Stripe's events at once and applies them in the background:
        # wait until the account is on the plan it paid for.
        deadline = time.monotonic() + JOB_TIMEOUT
        while True:
            billing: dict[str, Any] = self._call("billing", "GET", "/v1/billing").json()
            live = billing.get("subscription_status") in ("active", "trialing")
            if (billing.get("plan_code") == plan_code and live) or time.monotonic() > deadline:
                return billing
            time.sleep(POLL_SECONDS)

    def create_promo(self, title: str) -> str:
        response = self._call("create the promo", "POST", "/v1/promos", json={"title": title})
        return str(response.json()["id"])

    def upload_csv(self, promo_id: str, filename: str, data: bytes) -> str:
        created = self._call(
            "start the upload",
            "POST",
            "/v1/uploads",
            json={"filename": filename, "content_type": "text/csv", "promo_id": promo_id},
        ).json()
        form = created["form"]
        try:
            stored = httpx.post(
                form["url"],
                data=form["fields"],
                files={"file": (filename, data, "text/csv")},
                timeout=30,
            )
        except httpx.HTTPError as exc:
            raise DemoError(f"upload the file: cannot reach storage: {exc}") from None
        if stored.status_code >= 300:
            raise DemoError(f"upload the file: storage answered HTTP {stored.status_code}")
        upload_id = str(created["upload"]["id"])
        job = self._call(
            "parse the upload", "POST", f"/v1/uploads/{upload_id}/parse", json={"mode": "replace"}
        ).json()
        return str(job["id"])

    def request_render(self, promo_id: str) -> str:
        job = self._call("request the render", "POST", f"/v1/promos/{promo_id}/renders", json={})
        return str(job.json()["id"])

    def wait_for_job(
        self, job_id: str, on_status: Callable[[str], None] = lambda _status: None
    ) -> dict[str, Any]:
        deadline = time.monotonic() + JOB_TIMEOUT
        while True:
            job: dict[str, Any] = self._call("follow the job", "GET", f"/v1/jobs/{job_id}").json()
            on_status(job["status"])
            if job["status"] == "succeeded":
                return job
            if job["status"] in ("failed", "dead"):
                raise DemoError(f"{job['type']} job {job_id} {job['status']}: {job.get('error')}")
            if time.monotonic() > deadline:
                raise DemoError(
                    f"{job['type']} job {job_id} still {job['status']} after {JOB_TIMEOUT:.0f} s "
                    "(is a worker running?)"
                )
            time.sleep(POLL_SECONDS)

    def item_count(self, promo_id: str) -> int:
        promo = self._call("read the promo", "GET", f"/v1/promos/{promo_id}").json()
        return len(promo.get("items", []))

    def download_outputs(self, promo_id: str, folder: Path) -> list[Path]:
        assets = self._call("list the outputs", "GET", f"/v1/promos/{promo_id}/assets").json()
        files: list[Path] = []
        for kind in ("pdf", "png"):
            asset = next((a for a in assets if a["kind"] == kind), None)
            if asset is None:
                raise DemoError(f"the render made no {kind.upper()}")
            redirect = self._call(
                f"download the {kind}", "GET", f"/v1/assets/{asset['id']}/download"
            )
            content = httpx.get(redirect.headers["location"], timeout=60)
            if content.status_code != 200:
                raise DemoError(f"download the {kind}: storage answered HTTP {content.status_code}")
            path = folder / f"counterpromo-demo-{promo_id[:8]}.{kind}"
            path.write_bytes(content.content)
            files.append(path)
        return files
