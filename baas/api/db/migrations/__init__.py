"""Alembic migrations of the API database (run by :meth:`baas.api.db.Database.migrate`)."""
