"""GraphQL types of the helpdesk: Ticket, Contract and Customer, each a view of a record."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from app.graphql.context import Info
from app.graphql.history_types import HistoryConnection, as_datetime, resolve_history
from app.history import model


@strawberry.type(name="Customer")
class CustomerNode:
    id: strawberry.ID
    firstname: str | None
    lastname: str | None
    company: str | None
    email: str | None
    phone: str | None
    address: str | None

    @classmethod
    def of(cls, customer: model.Customer) -> CustomerNode:
        return cls(
            id=strawberry.ID(customer.id),
            firstname=customer.firstname,
            lastname=customer.lastname,
            company=customer.company,
            email=customer.email,
            phone=customer.phone,
            address=customer.address,
        )


async def _customer(info: Info, customer_id: str | None) -> CustomerNode | None:
    if customer_id is None:
        return None
    found = await info.context.history.find_customer(customer_id)
    return CustomerNode.of(found) if found is not None else None


@strawberry.type(name="Contract", description="An energy contract; its id is the billing one.")
class ContractNode:
    id: strawberry.ID
    energy: str
    status: str
    product_name: str | None
    malo_id: str | None = strawberry.field(description="Market location id (MaLo, 11 digits).")
    grid_operator_name: str | None
    delivery_address: str | None
    start_date: date | None
    end_date: date | None
    record: strawberry.Private[model.Contract]

    @classmethod
    def of(cls, contract: model.Contract) -> ContractNode:
        return cls(
            id=strawberry.ID(contract.id),
            energy=contract.energy,
            status=contract.status,
            product_name=contract.product_name,
            malo_id=contract.malo_id,
            grid_operator_name=contract.grid_operator_name,
            delivery_address=contract.delivery_address,
            start_date=contract.start_date,
            end_date=contract.end_date,
            record=contract,
        )

    @strawberry.field
    async def customer(self, info: Info) -> CustomerNode | None:
        return await _customer(info, self.record.customer_id)

    history: HistoryConnection = strawberry.field(
        resolver=resolve_history,
        description="The contract's tickets and billing events, newest first.",
    )

    def history_scope(self) -> model.Scope:
        return model.Scope("contract", self.record.id)

    def history_anchor(self) -> model.Ticket | None:
        return None


async def _contract(info: Info, contract_id: str | None) -> ContractNode | None:
    if contract_id is None:
        return None
    found = await info.context.history.find_contract(contract_id)
    return ContractNode.of(found) if found is not None else None


@strawberry.type(name="Ticket")
class TicketNode:
    id: int
    channel: str
    sub_channel: str | None = strawberry.field(description="The subchannel key, e.g. facebook.")
    status: str
    priority: str
    direction: str
    subject: str | None
    from_name: str | None
    from_address: str | None
    url: str | None
    created_at: datetime
    record: strawberry.Private[model.Ticket]

    @classmethod
    def of(cls, ticket: model.Ticket) -> TicketNode:
        return cls(
            id=ticket.id,
            channel=ticket.channel,
            sub_channel=ticket.sub_channel,
            status=ticket.status,
            priority=ticket.priority,
            direction=ticket.direction,
            subject=ticket.subject,
            from_name=ticket.from_name,
            from_address=ticket.from_addr,
            url=ticket.url,
            created_at=as_datetime(ticket.created_at),
            record=ticket,
        )

    @strawberry.field
    async def contract(self, info: Info) -> ContractNode | None:
        return await _contract(info, self.record.contract_id)

    @strawberry.field
    async def customer(self, info: Info) -> CustomerNode | None:
        return await _customer(info, self.record.customer_id)

    history: HistoryConnection = strawberry.field(
        resolver=resolve_history,
        description=(
            "The ticket's history: its contract's tickets and events, or else its customer's "
            "tickets and the events of all their contracts, or else the ticket alone."
        ),
    )

    def history_scope(self) -> model.Scope:
        return model.Scope.of_ticket(self.record)

    def history_anchor(self) -> model.Ticket | None:
        return self.record
