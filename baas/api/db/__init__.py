"""The API's persistence: SQLAlchemy 2 models (:mod:`.models`), the engine and sessions
(:mod:`.engine`), the queries per resource, and the Alembic migrations shipped in the package
(``migrations/``)."""

from baas.api.db.engine import DATABASE_URL_ENV, Database, default_url

__all__ = ["DATABASE_URL_ENV", "Database", "default_url"]
