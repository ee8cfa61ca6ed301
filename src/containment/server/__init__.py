"""The containment server: store, API, dashboard, webhooks, workers (issue 11).

Nothing here is imported by the scanner's own commands: SQLAlchemy, Alembic and FastAPI load only
when a server module is imported."""
