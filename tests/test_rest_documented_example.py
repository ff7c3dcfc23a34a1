"""The REST shim answers the documented example to the letter: keys, order, values, nulls."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Deployment
from tests.support.billing_admin import BillingAdmin
from tests.support.factories import Factory, event

DOCUMENTED = json.loads(
    (Path(__file__).parent / "fixtures" / "documented_example.json").read_text()
)


async def test_documented_example_is_reproduced_exactly(
    scratch: Deployment, factory: Factory, billing: BillingAdmin
) -> None:
    customer = await factory.customer()
    contract = await factory.contract(customer)
    facebook = await factory.subchannel("chat", "facebook")
    shown = DOCUMENTED["history"]
    await factory.ticket(
        id=1022, channel="email", status="active", subject="Tom Mustermann",
        contract_id=contract, customer_id=customer, created_at=shown[0]["createdAt"],
    )  # fmt: skip
    await factory.ticket(
        id=222, channel="phone", status="pending", subject="missedCall",
        contract_id=contract, customer_id=customer, created_at=shown[1]["createdAt"],
    )  # fmt: skip
    await factory.ticket(
        id=135, channel="chat", subchannel_id=facebook, status="open", subject=None,
        external_url="https://facebook.com/message/289291",
        contract_id=contract, customer_id=customer, created_at=shown[2]["createdAt"],
    )  # fmt: skip
    # Five older items that the documented page (6 of 11) does not show.
    for n in range(3):
        await factory.ticket(
            contract_id=contract, customer_id=customer, created_at=1_600_000_000 - n
        )
    events = [
        event(41425548, shown[3]["createdAt"], kind="delivery", subject="deliveryStart"),
        event(41425547, shown[4]["createdAt"], subject="deliveryStartConfirmed"),
        event(
            41425546,
            shown[5]["createdAt"],
            subject="handoverDateConfirmed",
            role="previousSupplier",
        ),
        event(41425545, 1_500_000_000, subject="deliveryStartRequested"),
        event(41425544, 1_500_000_000 - 60, subject="cancellationSent", role="previousSupplier"),
    ]
    for documented, crafted in zip(shown[3:], events, strict=False):
        crafted["url"] = documented["url"]
    await billing.set_events(contract, events)

    response = await scratch.client.get("/api/mind/ticket/1022/history", params={"limit": 6})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.text == json.dumps(DOCUMENTED, separators=(",", ":"))
