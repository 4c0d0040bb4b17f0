"""What a server is started with (``baas serve`` builds it from flags and the environment)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_BODY_BYTES = 1024 * 1024
MAX_UPLOAD_BYTES = 32 * 1024 * 1024
"""A chaincode source archive's compressed size (``POST …/chaincode-sources``)."""
MAX_SOURCE_BYTES = 256 * 1024 * 1024
"""What an uploaded archive may unpack to (its tar stream: a gzip bomb stops here)."""
MAX_SOURCE_MEMBERS = 20_000


@dataclass(frozen=True)
class ApiSettings:
    """``database_url``: None for ``$BAAS_DATABASE_URL`` or SQLite under ``$BAAS_HOME``.
    ``source_dir``: the folder relative paths in posted topologies (chaincode ``path``) are
    resolved against, as the CLI resolves them against the topology file's folder (default:
    the server's working directory). ``cors_origins``: empty keeps CORS off. ``kube``: the
    :class:`~baas.runtimes.kubernetes.runtime.KubeOptions` for ``target: kubernetes``
    networks (None: the services' defaults). ``max_upload_bytes``: the body limit of a
    chaincode source upload (every other body has ``max_body_bytes``);
    ``max_source_bytes`` / ``max_source_members``: what such an archive may unpack to
    (:mod:`baas.services.sources`)."""

    database_url: str | None = None
    source_dir: Path = field(default_factory=Path.cwd)
    max_body_bytes: int = MAX_BODY_BYTES
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    max_source_bytes: int = MAX_SOURCE_BYTES
    max_source_members: int = MAX_SOURCE_MEMBERS
    cors_origins: tuple[str, ...] = ()
    job_workers: int = 4
    kube: Any = None
