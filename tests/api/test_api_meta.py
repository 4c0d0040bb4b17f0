"""What needs no token: health, version, the OpenAPI document and its docs page; and what
every unknown path or method answers (the error shape, the ``Allow`` header)."""

from __future__ import annotations

from baas import __version__
from tests.api.conftest import Api


def test_health_version_and_the_schema(api: Api) -> None:
    with api.server.client() as http:
        assert http.get("/api/v1/health").json() == {"status": "ok", "database": "ok"}
        assert http.get("/api/v1/version").json() == {
            "version": __version__,
            "apiVersion": "baas/v1alpha1",
        }
        schema = http.get("/openapi.json").json()
        assert schema["info"]["title"] == "baas"
        assert "/api/v1/networks/{name}/deployments" in schema["paths"]
        assert "HTTPBearer" in schema["components"]["securitySchemes"]
        docs = http.get("/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_unknown_paths_and_methods(api: Api) -> None:
    with api.server.client(api.tokens.admin) as http:
        missing = http.get("/api/v1/nothing-here")
        assert missing.status_code == 404 and missing.json()["code"] == "not-found"
        wrong = http.patch("/api/v1/networks")
        assert wrong.status_code == 405
        assert wrong.headers["allow"] == "GET, POST"
        assert "Traceback" not in wrong.text
        docs = http.head("/docs")  # a path the schema leaves out names its route's methods
        assert docs.status_code == 405 and docs.headers["allow"] == "GET"
