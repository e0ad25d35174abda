"""Alembic migrations of the store (run by :func:`masterhall.store.db.migrate`; not imported)."""
