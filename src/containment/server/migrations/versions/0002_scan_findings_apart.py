"""scans.computed: the re-evaluation's findings in a column of their own, read only by the image page

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 09:10:00

Until now the findings of a re-evaluated image (thousands per image) sat under
``scans.counts["computed"]``, so every listing that read an image's newest scan decoded them
(the images API spent ~80 % of its time there) and SQLite read through them to reach the
severity columns stored after ``counts``. They move to ``scans.computed`` (appended last, loaded
only on demand); ``counts`` keeps the per-severity numbers. The covering index serves the
newest-scan-per-image lookups and the fleet trend without touching the rows.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BATCH = 500
_scans = sa.table(
    "scans",
    sa.column("id", sa.Integer),
    sa.column("counts", sa.JSON),
    sa.column("computed", sa.JSON),
)


def _decoded(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


def upgrade() -> None:
    op.add_column("scans", sa.Column("computed", sa.JSON(), nullable=True))
    op.create_index(
        "ix_scans_image_created",
        "scans",
        ["image_id", "created", "id", "critical", "high", "medium", "low", "unknown"],
        unique=False,
    )
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.select(_scans.c.id, _scans.c.counts)
            .where(_scans.c.id > last)
            .order_by(_scans.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for sid, counts in rows:
            counts = _decoded(counts)
            if isinstance(counts, dict) and "computed" in counts:
                rest = {k: v for k, v in counts.items() if k != "computed"}
                conn.execute(
                    _scans.update().where(_scans.c.id == sid).values(counts=rest, computed=counts["computed"])
                )
        last = rows[-1][0]


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(_scans.c.id, _scans.c.counts, _scans.c.computed).where(_scans.c.computed.isnot(None))
    ).all()
    for sid, counts, computed in rows:
        merged = dict(_decoded(counts) or {})  # type: ignore[call-overload]
        merged["computed"] = _decoded(computed)
        conn.execute(_scans.update().where(_scans.c.id == sid).values(counts=merged))
    op.drop_index("ix_scans_image_created", table_name="scans")
    with op.batch_alter_table("scans") as batch_op:
        batch_op.drop_column("computed")
