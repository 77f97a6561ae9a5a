"""A short mixed load (bounded, ~20 s) from many concurrent clients of several accounts,
spread over both API processes: zero 5xx, zero cross-account data, and usage counters
equal to the number of successful creates."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx
from counterpromo_core.db.models import Job, Promo
from sqlalchemy import func, select

from harness.load import Recorder, Step, running_load
from harness.records import all_finished, usage
from harness.stack import SystemStack
from harness.tenants import Tenant, create_tenant, promo_body
from harness.waiting import wait_until

LOAD_SECONDS = 20.0
CLIENTS = 12
PLANS = ["pro", "pro", "dealer", "dealer", "dealer", "pro"]  # pro: 100 promos a month


@dataclass
class Shared:
    """What the clients learn as they go (ids by account), and what they saw wrong."""

    tenants: list[Tenant]
    promos: dict[uuid.UUID, list[str]] = field(default_factory=dict)
    leaks: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_promo(self, tenant: Tenant, promo_id: str) -> None:
        with self.lock:
            self.promos.setdefault(tenant.account_id, []).append(promo_id)

    def some_promo(self, tenant: Tenant, rng: random.Random) -> str | None:
        with self.lock:
            ids = self.promos.get(tenant.account_id)
            return rng.choice(ids) if ids else None

    def leak(self, what: str) -> None:
        with self.lock:
            self.leaks.append(what)


@dataclass(frozen=True)
class Turn:
    """One client's turn: who it is, what it may touch."""

    client: httpx.Client
    recorder: Recorder
    shared: Shared
    tenant: Tenant
    other: Tenant
    mine: str
    rng: random.Random


def _create(t: Turn) -> None:
    body = promo_body(t.tenant, items=3)
    r = t.recorder.record(
        "create", t.client.post("/v1/promos", json=body, headers=t.tenant.headers)
    )
    if r.status_code == 201:
        t.shared.add_promo(t.tenant, r.json()["id"])


def _list(t: Turn) -> None:
    params = {"limit": 20}
    r = t.recorder.record(
        "list", t.client.get("/v1/promos", params=params, headers=t.tenant.headers)
    )
    for item in r.json()["items"] if r.status_code == 200 else []:
        if t.tenant.tag not in item["title"]:
            t.shared.leak(f"list of {t.tenant.tag} has {item['title']!r}")


def _get(t: Turn) -> None:
    r = t.recorder.record("get", t.client.get(f"/v1/promos/{t.mine}", headers=t.tenant.headers))
    if r.status_code == 200 and t.tenant.tag not in r.json()["title"]:
        t.shared.leak(f"get by {t.tenant.tag} returned {r.json()['title']!r}")


def _foreign(t: Turn) -> None:
    theirs = t.shared.some_promo(t.other, t.rng)
    if theirs is None:
        return
    r = t.recorder.record("foreign", t.client.get(f"/v1/promos/{theirs}", headers=t.tenant.headers))
    if r.status_code != 404:
        t.shared.leak(f"{t.tenant.tag} read {theirs} of {t.other.tag}: {r.status_code}")


def _patch(t: Turn) -> None:
    body = {"title": f"Renamed {t.rng.randint(1, 999)} [{t.tenant.tag}]"}
    url = f"/v1/promos/{t.mine}"
    t.recorder.record("patch", t.client.patch(url, json=body, headers=t.tenant.headers))


def _add_item(t: Turn) -> None:
    item = {"sku": f"X{t.rng.randint(1, 99_999)}", "name": "Trade item", "sale_price": "4.99"}
    url = f"/v1/promos/{t.mine}/items"
    t.recorder.record("item", t.client.post(url, json=item, headers=t.tenant.headers))


def _usage(t: Turn) -> None:
    t.recorder.record("usage", t.client.get("/v1/usage", headers=t.tenant.headers))


def _render(t: Turn) -> None:
    url = f"/v1/promos/{t.mine}/renders"
    t.recorder.record("render", t.client.post(url, json={}, headers=t.tenant.headers))


# (cumulative probability, action): a dealer's systems mostly read, and create often.
MIX = [
    (0.25, _create),
    (0.50, _list),
    (0.65, _get),
    (0.75, _foreign),
    (0.83, _patch),
    (0.90, _add_item),
    (0.96, _usage),
    (1.00, _render),
]


def _step(shared: Shared) -> Step:
    rngs: dict[int, random.Random] = {}

    def step(client: httpx.Client, recorder: Recorder, n: int) -> None:
        rng = rngs.setdefault(n, random.Random(n))
        tenant = shared.tenants[n % len(shared.tenants)]
        other = shared.tenants[(n + 1) % len(shared.tenants)]
        mine = shared.some_promo(tenant, rng)
        if mine is None:
            _create(Turn(client, recorder, shared, tenant, other, "", rng))
            return
        roll = rng.random()
        action = next(action for bound, action in MIX if roll < bound)
        action(Turn(client, recorder, shared, tenant, other, mine, rng))

    return step


def test_mixed_load(stack: SystemStack) -> None:
    shared = Shared([create_tenant(stack.sessions, plan=plan) for plan in PLANS])
    urls = [api.url for api in stack.apis]
    step = _step(shared)
    with running_load(urls, step, clients=CLIENTS, max_seconds=LOAD_SECONDS + 30) as load:
        time.sleep(LOAD_SECONDS)
    answers = load.snapshot()

    assert not load.errors, load.errors[:3]
    assert not shared.leaks, shared.leaks[:5]
    by_status = Counter((a.action, a.status) for a in answers)
    print(f"\n{len(answers)} requests in {LOAD_SECONDS:.0f}s: {dict(sorted(by_status.items()))}")
    assert [a for a in answers if a.status >= 500] == []
    allowed = {200, 201, 202, 402, 404}
    assert {a.status for a in answers} <= allowed, [a for a in answers if a.status not in allowed]
    assert by_status[("create", 201)] > 50, by_status
    assert by_status[("foreign", 404)] > 10, by_status

    for tenant, plan in zip(shared.tenants, PLANS, strict=True):
        created = len(shared.promos.get(tenant.account_id, []))
        counters = usage(stack.sessions, tenant.account_id)
        with stack.sessions() as session:
            rows = session.scalar(
                select(func.count()).select_from(Promo).where(Promo.account_id == tenant.account_id)
            )
        assert counters["promos_created"] == created == rows, (plan, counters, created, rows)
        if plan == "pro":
            assert created <= 100

    # Renders: counted once per accepted request; let them finish before the next test.
    accounts = [t.account_id for t in shared.tenants]
    with stack.sessions() as session:
        render_jobs = list(session.scalars(select(Job.id).where(Job.account_id.in_(accounts))))
    accepted = by_status[("render", 202)]
    assert sum(usage(stack.sessions, a)["renders"] for a in accounts) == accepted
    assert len(render_jobs) == accepted
    wait_until(
        lambda: all_finished(stack.sessions, render_jobs), timeout=120, interval=0.5, what="renders"
    )
