"""registries, webhooks, signing_keys, server_state: the configuration every process reads

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 14:30:00

`containment worker` processes on other machines run every job kind, so what the jobs read can
no longer live in the server's data directory (registries.json, webhooks.json,
signing/cosign.key, the advisory snapshot's version): it moves into the database. The legacy
files are imported once when a store is opened with that data directory (server/config.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registries",
        sa.Column("host", sa.String(length=300), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("policy", sa.Text(), nullable=False),
        sa.Column("policy_source", sa.Text(), nullable=False),
        sa.Column("stage", sa.String(length=512), nullable=False),
        sa.Column("plain_http", sa.Boolean(), nullable=False),
        sa.Column("tls_verify", sa.Boolean(), nullable=False),
        sa.Column("quarantine", sa.String(length=512), nullable=False),
        sa.Column("db", sa.Text(), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=512), nullable=False),
        sa.PrimaryKeyConstraint("host"),
    )
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url_sha256", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("stages", sa.JSON(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=512), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("url_sha256"),
    )
    op.create_table(
        "signing_keys",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("public_pem", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=512), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "server_state",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    for table in ("server_state", "signing_keys", "webhooks", "registries"):
        op.drop_table(table)
