"""Alembic migrations of the server's store, run by `Store.open()` (containment.server.db.upgrade)."""
