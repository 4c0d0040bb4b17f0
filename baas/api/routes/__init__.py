"""The API's routes, one module per resource; :data:`ROUTERS` in the order they mount."""

from baas.api.routes import (
    audit,
    certificates,
    chaincodes,
    deployments,
    meta,
    networks,
    organizations,
    smoke,
)

ROUTERS = (
    meta.router,
    networks.router,
    deployments.router,
    certificates.router,
    organizations.router,
    smoke.router,
    chaincodes.router,
    audit.router,
)

__all__ = ["ROUTERS"]
