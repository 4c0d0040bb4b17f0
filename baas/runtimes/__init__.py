"""Where a network runs: :mod:`baas.runtimes.local` (processes on this machine, the default)
and :mod:`baas.runtimes.kubernetes` (Helm releases in per-organisation namespaces).

Both implement :class:`Runtime`; :func:`baas.services.runtime.runtime_for` is the one place
that picks one. Everything else they share — plan, PKI, node configuration, the channel and
chaincode ensures, the admin client — lives outside this package.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from baas.plan import Plan

if TYPE_CHECKING:
    from baas.network.access import NetworkAccess

Target = Literal["local", "kubernetes"]
TARGETS: tuple[Target, ...] = ("local", "kubernetes")
Report = Callable[[str], None]


class Result(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


class Runtime(Protocol):
    """One way of running a network. Every method takes the plan; ``crypto`` is the PKI tree
    (issued before ``up``)."""

    @property
    def target(self) -> Target:
        """``local`` or ``kubernetes``."""
        ...

    def preflight(self, plan: Plan) -> None:
        """Check what ``up`` needs (binaries, a cluster, chaincode sources) before anything is
        written; raises a :class:`baas.errors.BaasError` saying what is missing."""
        ...

    def up(
        self,
        plan: Plan,
        *,
        crypto: Path,
        report: Report,
        signers: frozenset[str] | None = None,
    ) -> Result:
        """Bring the network to the plan's state; idempotent. ``signers``: the organisations
        whose admins may sign changes (``None``: all); a change needing another's signature
        raises :class:`~baas.errors.SigningRefused` before it is made."""
        ...

    def deliver(
        self,
        plan: Plan,
        *,
        crypto: Path,
        report: Report,
        signers: frozenset[str] | None = None,
    ) -> Result:
        """The chaincode half of ``up`` on a running network: builds, chaincode servers and
        every chaincode's lifecycle (a changed one upgraded, the others left as they are);
        raises :class:`baas.errors.UsageError` when the network does not run."""
        ...

    def down(self, plan: Plan, *, purge: bool, report: Report) -> Result:
        """Stop it; ``purge`` also deletes its data and key material."""
        ...

    def status(self, plan: Plan) -> Result:
        """What runs, read-only."""
        ...

    def changes(self, plan: Plan, *, crypto: Path) -> Result:
        """What ``up`` would change, read-only (writes nothing)."""
        ...

    def smoke(
        self,
        plan: Plan,
        *,
        on_check: Callable[[Any], None] | None = None,
        load: Any = None,
        on_load: Callable[[Any], None] | None = None,
        signers: frozenset[str] | None = None,
    ) -> Result:
        """End-to-end checks of the running network (a ``baas.smoke.report.SmokeReport``);
        with ``load`` (``baas.smoke.load.LoadOptions``) a load probe after them."""
        ...

    def access(self, plan: Plan) -> AbstractContextManager[NetworkAccess]:
        """baas's admin access to the running network (its nodes as client targets, every
        organisation's admin), closed on exit; raises :class:`baas.errors.UsageError` when the
        network does not run here."""
        ...

    def logs(self, plan: Plan, *, node: str | None, follow: bool, lines: int) -> Iterator[str]:
        """A node's log lines (all nodes' when ``node`` is None)."""
        ...
