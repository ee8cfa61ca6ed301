"""inventories.package_count: each inventory's number of packages, kept with it

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 11:45:00

The images API and the fleet pages show how many packages each image holds. Counting them per
request joined every listed image's package rows (~200 each): 3.6 ms of a 100-image page on
1,000 images, the page's costliest query. An inventory never changes once stored (one per
digest), so its count is written with it and read as a column. Existing rows are counted here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("inventories", sa.Column("package_count", sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE inventories SET package_count = "
        "(SELECT count(*) FROM packages WHERE packages.inventory_id = inventories.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("inventories") as batch_op:
        batch_op.drop_column("package_count")
