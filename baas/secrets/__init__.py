"""Secret stores: where identities (:class:`pki.bundle.IdentityBundle`) are kept.

``open_store("files", root=...)``, ``open_store("kubernetes", ...)`` or ``open_store("vault", ...)``
returns a :class:`SecretStore`; every write is an ensure that reports a :class:`Change`.
"""

from baas.secrets.base import Change, SecretStore, open_store

__all__ = ["Change", "SecretStore", "open_store"]
