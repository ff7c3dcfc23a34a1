"""SQLAlchemy Core tables of the helpdesk database (design §4).

The `session` table (migration 0001) is exactly connect-pg-simple's, so an Express app and the
gateway can share it; `session_table` describes it under any configured name.
Ticket statuses are not constrained: history passes statuses through as stored.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

agents = sa.Table(
    "agents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=True),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.Integer, nullable=False),
)

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("firstname", sa.String(100), nullable=True),
    sa.Column("lastname", sa.String(100), nullable=True),
    sa.Column("company", sa.String(200), nullable=True),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("phone", sa.String(50), nullable=True),
    sa.Column("address", sa.String(300), nullable=True),
)

contracts = sa.Table(
    "contracts",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("customer_id", sa.String(32), sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("energy", sa.String(20), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("product_name", sa.String(200), nullable=True),
    sa.Column("malo_id", sa.String(11), nullable=True),
    sa.Column("grid_operator_name", sa.String(200), nullable=True),
    sa.Column("delivery_address", sa.String(300), nullable=True),
    sa.Column("start_date", sa.Date, nullable=True),
    sa.Column("end_date", sa.Date, nullable=True),
    sa.CheckConstraint("energy IN ('electricity', 'gas')", name="ck_contracts_energy"),
    sa.Index("ix_contracts_customer", "customer_id"),
)

subchannels = sa.Table(
    "subchannels",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("key", sa.String(100), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
)

tickets = sa.Table(
    "tickets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("subchannel_id", sa.Integer, sa.ForeignKey("subchannels.id"), nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("priority", sa.String(10), nullable=False, server_default="low"),
    sa.Column("direction", sa.String(10), nullable=False, server_default="in"),
    sa.Column("subject", sa.String(500), nullable=True),
    sa.Column("from_name", sa.String(200), nullable=True),
    sa.Column("from_addr", sa.String(320), nullable=True),
    sa.Column("external_url", sa.String(1000), nullable=True),
    sa.Column("contract_id", sa.String(32), sa.ForeignKey("contracts.id"), nullable=True),
    sa.Column("customer_id", sa.String(32), sa.ForeignKey("customers.id"), nullable=True),
    sa.Column("created_at", sa.Integer, nullable=False),
    sa.Index(
        "ix_tickets_contract_keyset",
        "contract_id",
        sa.text("created_at DESC"),
        sa.text("id DESC"),
    ),
    sa.Index(
        "ix_tickets_customer_keyset",
        "customer_id",
        sa.text("created_at DESC"),
        sa.text("id DESC"),
    ),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.Integer, nullable=False),
    sa.Column("revoked_at", sa.Integer, nullable=True),
)

access_log = sa.Table(
    "access_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
    sa.Column("ticket_id", sa.Integer, nullable=True),
    sa.Column("contract_id", sa.String(32), nullable=True),
    sa.Column("request_id", sa.String(128), nullable=False),
    sa.Column("created_at", sa.Integer, nullable=False),
    sa.Index("ix_access_log_agent_time", "agent_id", "created_at"),
)


def session_table(name: str) -> sa.Table:
    """connect-pg-simple's table under its configured name (SESSION_TABLE)."""
    return sa.Table(
        name,
        sa.MetaData(),
        sa.Column("sid", sa.String, primary_key=True),
        sa.Column("sess", sa.JSON, nullable=False),
        sa.Column("expire", sa.DateTime(timezone=False), nullable=False),
    )
