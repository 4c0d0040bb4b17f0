"""The baas REST API (``baas serve``): a thin layer over :mod:`baas.services` — parse, call
the service the CLI calls, format. See :mod:`baas.api.app` for how it is wired,
:mod:`baas.api.auth` for who may do what, :mod:`baas.api.jobs` for deployments as jobs."""
