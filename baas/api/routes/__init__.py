"""The API's routes, one module per resource; :data:`ROUTERS` in the order they mount."""

from baas.api.routes import (
    audit,
    certificates,
    chaincodes,
    deliveries,
    deployments,
    meta,
    networks,
    organizations,
    smoke,
    whoami,
)

ROUTERS = (
    meta.router,
    whoami.router,
    networks.router,
    deployments.router,
    certificates.router,
    organizations.router,
    smoke.router,
    chaincodes.router,
    deliveries.router,
    audit.router,
)

__all__ = ["ROUTERS"]
