"""The disinfection cycles join the evidence chain.

From now on each ingest batch that stores new cycles appends a ``cycles``
entry (``store/cycle_chain.py``). Cycles stored before (since 0009) have
none: on a database that holds any, one ``cycles_start`` entry records the
highest cycle id and the number of cycle rows stored until now. Those rows
keep what they had (``sebiao cloud verify`` checks that their number does not
change); every cycle row after them must be covered. No table changes.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from cloud_ingest.store import cycle_chain, evidence  # the chain's one way of appending (its lock, its hash)

    bind = op.get_bind()
    start = cycle_chain.start_body(bind)
    again = bind.execute(sa.text("SELECT COUNT(*) FROM evidence_log WHERE kind IN ('cycles_start', 'cycles')")
                         ).scalar_one()
    if start["rows"] and not again:  # once, even after a downgrade; never after covering entries
        now = context.config.attributes.get("now")
        if now is None:
            raise RuntimeError("run the cloud migrations with `sebiao cloud migrate --config FILE`")
        evidence.append(bind, now, cycle_chain.START, "", None, start)


def downgrade() -> None:
    """Nothing to undo: the chain is append-only, and an older code reads past entries of kinds it ignores."""
