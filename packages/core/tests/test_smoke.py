import uuid
from collections.abc import Callable

from counterpromo_core import api_keys, jobs, promos, usage
from counterpromo_core.ports import ManualClock
from counterpromo_core.schemas import ItemIn, PromoCreate
from sqlalchemy.orm import Session


def test_create_and_list(
    session: Session, new_account: Callable[..., uuid.UUID], clock: ManualClock
) -> None:
    account_id = new_account("test-ten")
    promo = promos.create_promo(
        session,
        account_id,
        PromoCreate(title="Spring", items=[ItemIn(name="Hammer", sku="H1")]),
        clock=clock,
    )
    assert promos.get_promo(session, account_id, promo.id).items[0].name == "Hammer"
    page = promos.list_promos(session, account_id)
    assert [p.id for p in page.items] == [promo.id]
    assert usage.usage_report(session, account_id, clock=clock).counters["promos_created"].used == 1
    created = api_keys.create_api_key(session, account_id, name="k", role="admin")
    actor = api_keys.authenticate(session, created.plaintext, clock=clock)
    assert actor is not None
    assert actor.account_id == account_id
    job = jobs.create_job(
        session, account_id, type="render_promo", promo_id=promo.id, payload={"x": uuid.uuid4()}
    )
    assert job.status == "queued"
