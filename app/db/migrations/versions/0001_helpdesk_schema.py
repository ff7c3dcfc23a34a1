"""Helpdesk schema: agents, customers, contracts, subchannels, tickets and the session table.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.Integer(), nullable=False),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("firstname", sa.String(100), nullable=True),
        sa.Column("lastname", sa.String(100), nullable=True),
        sa.Column("company", sa.String(200), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("phone", sa.String(50), nullable=True),
        sa.Column("address", sa.String(300), nullable=True),
    )
    # Exactly connect-pg-simple's table, so an Express app can share it.
    op.create_table(
        "session",
        sa.Column("sid", sa.String(), primary_key=True),
        sa.Column("sess", sa.JSON(), nullable=False),
        sa.Column("expire", sa.DateTime(timezone=False), nullable=False),
    )
    op.create_index("IDX_session_expire", "session", ["expire"])
    op.create_table(
        "subchannels",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("key", sa.String(100), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
    )
    op.create_table(
        "contracts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("customer_id", sa.String(32), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("energy", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("product_name", sa.String(200), nullable=True),
        sa.Column("malo_id", sa.String(11), nullable=True),
        sa.Column("grid_operator_name", sa.String(200), nullable=True),
        sa.Column("delivery_address", sa.String(300), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.CheckConstraint("energy IN ('electricity', 'gas')", name="ck_contracts_energy"),
    )
    op.create_index("ix_contracts_customer", "contracts", ["customer_id"])
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("subchannel_id", sa.Integer(), sa.ForeignKey("subchannels.id"), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("priority", sa.String(10), server_default="low", nullable=False),
        sa.Column("direction", sa.String(10), server_default="in", nullable=False),
        sa.Column("subject", sa.String(500), nullable=True),
        sa.Column("from_name", sa.String(200), nullable=True),
        sa.Column("from_addr", sa.String(320), nullable=True),
        sa.Column("external_url", sa.String(1000), nullable=True),
        sa.Column("contract_id", sa.String(32), sa.ForeignKey("contracts.id"), nullable=True),
        sa.Column("customer_id", sa.String(32), sa.ForeignKey("customers.id"), nullable=True),
        sa.Column("created_at", sa.Integer(), nullable=False),
    )
    # Keyset scans by scope read about a page of index entries, however deep the page.
    op.create_index(
        "ix_tickets_contract_keyset",
        "tickets",
        ["contract_id", sa.text("created_at DESC"), sa.text("id DESC")],
    )
    op.create_index(
        "ix_tickets_customer_keyset",
        "tickets",
        ["customer_id", sa.text("created_at DESC"), sa.text("id DESC")],
    )


def downgrade() -> None:
    op.drop_table("tickets")
    op.drop_table("contracts")
    op.drop_table("subchannels")
    op.drop_table("session")
    op.drop_table("customers")
    op.drop_table("agents")
