"""Chaincode delivery (``baas chaincode deliver``): one chaincode's entry added to or updated
in the topology file, then only the chaincode half of ``up`` on the running network.

:func:`deliver_file` is the whole command: the file's text edited by
:func:`topology.editing.apply_chaincode_change` (comments, order and every other byte kept),
the result validated exactly as ``baas validate`` would (an invalid result is refused and the
file left untouched), written back atomically with its mode, then
:meth:`baas.runtimes.Runtime.deliver`: builds, chaincode servers, lifecycle. The next sequence
comes from what is committed; until the new definition is committed on every member peer the
running servers keep serving the previous one, and a step that fails leaves it in use. Each
delivery (and its outcome) is appended to ``$BAAS_HOME/networks/<name>/chaincode/
deliveries.jsonl``. The same source and version again change nothing.
"""

from __future__ import annotations

import getpass
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import topology
from baas import plan as planning
from baas import releases
from baas.errors import BaasError, UsageError
from baas.home import crypto_dir, network_dir
from baas.network.inventory import Committed
from baas.runtimes import Report, Target
from baas.services.chaincode import chaincode_list
from baas.services.results import Outcome
from baas.services.runtime import runtime_for
from topology.editing import ChaincodeChange, Edit, apply_chaincode_change


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class Delivery:
    """What a delivery did: the file's edit (``added``/``updated``/``unchanged`` and its
    diff), the phases with their timings, and the chaincode's definition afterwards."""

    network: str
    chaincode: str
    channel: str
    edit: str
    diff: str
    phases: list[dict[str, Any]] = field(default_factory=list)
    committed: Committed | None = None
    awaiting: str | None = None
    """With ``approval: manual``, while the new definition lacks approvals: who approved it
    and whose approval it awaits (the committed definition still serves)."""
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return self.edit != "unchanged" or any(p["changes"] for p in self.phases)

    def to_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "chaincode": self.chaincode,
            "channel": self.channel,
            "edit": self.edit,
            "diff": self.diff,
            "changed": self.changed,
            "phases": self.phases,
            "committed": self.committed.to_dict() if self.committed else None,
            "awaiting": self.awaiting,
            "seconds": round(self.seconds, 3),
        }


def history_file(network: str) -> Path:
    """Where a network's deliveries are recorded, one JSON object a line."""
    return network_dir(network) / "chaincode" / "deliveries.jsonl"


def edit_file(file: Path, change: ChaincodeChange) -> tuple[Edit, topology.LoadedTopology]:
    """``change`` applied to the topology file: the edit and the validated result, written
    back (atomically, keeping the file's mode) only when it changed and validates. Raises
    :class:`topology.TopologyError` (the file untouched) otherwise."""
    loaded = topology.load(file)  # the file as it is must be valid: a delivery starts there
    text = file.read_text(encoding="utf-8")
    made = apply_chaincode_change(text, change, source=str(file))
    network, warnings = topology.loads(made.text, source=str(file), base_dir=loaded.base_dir)
    if made.outcome != "unchanged":
        partial = file.with_name(f".{file.name}.{os.getpid()}.partial")
        partial.write_text(made.text, encoding="utf-8")
        os.chmod(partial, file.stat().st_mode & 0o7777)
        partial.replace(file)
    return made, topology.LoadedTopology(path=loaded.path, network=network, warnings=warnings)


def _find(loaded: topology.LoadedTopology, name: str, channel: str | None) -> tuple[str, str]:
    for cc in loaded.network.spec.chaincodes:
        if cc.name == name and channel in (None, cc.channel):
            return cc.name, cc.channel
    raise UsageError(f"no chaincode {name!r} in the topology after the edit")


def deliver_file(
    file: Path,
    change: ChaincodeChange,
    *,
    target: Target = "local",
    kube: Any = None,
    report: Report = _quiet,
    signers: frozenset[str] | None = None,
) -> Outcome[Delivery]:
    """``baas chaincode deliver``: see the module docstring. ``report`` gets the diff's
    lines first, then the progress of the chaincode half of ``up``. ``signers``: the
    organisations baas may sign for (``None``: every one); for a chaincode with
    ``approval: manual`` they are also the organisations that approve in this delivery
    (``None``: none; see :func:`approve`). Raises what the steps raise (TopologyError for the
    file, UsageError when the network does not run, FabricError with the organisation and
    step, SigningRefused), after recording the failure."""
    start = time.monotonic()
    made, loaded = edit_file(file, change)
    for line in made.diff.splitlines():
        report(line)
    return deliver_edited(
        loaded,
        made,
        change,
        target=target,
        kube=kube,
        report=report,
        signers=signers,
        started=start,
    )


def approve(
    file: Path,
    *,
    name: str,
    organizations: list[str],
    channel: str | None = None,
    target: Target = "local",
    kube: Any = None,
    report: Report = _quiet,
    who: str | None = None,
) -> Outcome[Delivery]:
    """``baas chaincode approve``: approve the definition the topology wants for ``name`` as
    each organisation of ``organizations`` (names as in the topology; each must be a member
    of the chaincode's channel), installing its package on their peers first; the commit
    follows once the channel's LifecycleEndorsement is met. The topology file is not changed;
    signing is confined to ``organizations``. Already approved: nothing changes."""
    start = time.monotonic()
    loaded = topology.load(file)
    return approve_loaded(
        loaded,
        name=name,
        organizations=organizations,
        channel=channel,
        target=target,
        kube=kube,
        report=report,
        who=who,
        started=start,
    )


def rollback(
    file: Path,
    *,
    name: str,
    channel: str | None = None,
    target: Target = "local",
    kube: Any = None,
    report: Report = _quiet,
    signers: frozenset[str] | None = None,
) -> Outcome[Delivery]:
    """``baas chaincode rollback``: deliver the version of ``name`` that was defined before
    the committed one, from the copy of its sources kept when it was defined
    (:mod:`baas.releases`), as the next sequence: the topology entry's ``version`` and
    ``path`` are set to that version and its copy (the diff shows it), then the delivery
    runs as :func:`deliver_file` does. Each organisation's package for that version is the
    one its peers already have. Raises :class:`UsageError` when the network has no committed
    definition of ``name`` or no earlier version kept."""
    loaded = topology.load(file)
    found, channel = _find(loaded, name, channel)
    network = loaded.network.metadata.name
    listed = chaincode_list(loaded, target=target, kube=kube).value
    current = next(
        (
            c
            for ch in listed.channels
            for c in ch.committed
            if (c.channel, c.name) == (channel, found)
        ),
        None,
    )
    if current is None:
        raise UsageError(
            f"chaincode {found} is not committed on {channel}: there is nothing to roll back",
            hint="`baas chaincode list FILE` shows what the channels hold",
        )
    earlier = [r for r in releases.kept(network, found) if r.version != current.version]
    if not earlier:
        raise UsageError(
            f"no version of {found} before {current.version} is kept on this machine",
            hint="baas keeps each version's sources when it is defined (by `baas up` or "
            "`baas chaincode deliver`); deliver the version you want with --path and --version",
        )
    previous = earlier[0]
    report(f"rolling {found} back from {current.version} to {previous.version}")
    change = ChaincodeChange(
        name=found, channel=channel, version=previous.version, path=str(previous.folder)
    )
    return deliver_file(file, change, target=target, kube=kube, report=report, signers=signers)


def approve_loaded(
    loaded: topology.LoadedTopology,
    *,
    name: str,
    organizations: list[str],
    channel: str | None = None,
    target: Target = "local",
    kube: Any = None,
    report: Report = _quiet,
    who: str | None = None,
    started: float | None = None,
) -> Outcome[Delivery]:
    """:func:`approve` for an already loaded topology (the REST API's stored one)."""
    found, channel = check_approvers(
        loaded, name=name, channel=channel, organizations=organizations
    )
    index = next(
        i
        for i, cc in enumerate(loaded.network.spec.chaincodes)
        if (cc.name, cc.channel) == (found, channel)
    )
    unchanged = Edit(text="", diff="", outcome="unchanged", index=index, changed=())
    return deliver_edited(
        loaded,
        unchanged,
        ChaincodeChange(name=found, channel=channel),
        target=target,
        kube=kube,
        report=report,
        signers=frozenset(organizations),
        who=who,
        started=started,
    )


def check_approvers(
    loaded: topology.LoadedTopology,
    *,
    name: str,
    channel: str | None,
    organizations: list[str],
) -> tuple[str, str]:
    """The chaincode ``name`` (on ``channel`` when given) as ``(name, channel)``, after
    checking that ``organizations`` is not empty and that each is a member of its channel;
    raises :class:`UsageError` naming the strangers otherwise (read-only)."""
    found, channel = _find(loaded, name, channel)
    _check_members(loaded, channel, organizations)
    return found, channel


def _check_members(loaded: topology.LoadedTopology, channel: str, orgs: list[str]) -> None:
    if not orgs:
        raise UsageError(
            "name the organisations that approve",
            hint="give --as ORG once per organisation (its name in the topology)",
        )
    members = next(c.organizations for c in loaded.network.spec.channels if c.name == channel)
    strangers = sorted(set(orgs) - set(members))
    if strangers:
        raise UsageError(
            f"{', '.join(strangers)} {'is' if len(strangers) == 1 else 'are'} not a member of "
            f"channel {channel}",
            hint=f"its members: {', '.join(members)}",
        )


def edit_text(
    text: str,
    change: ChaincodeChange,
    *,
    source: str,
    load: Callable[[str], topology.LoadedTopology],
) -> tuple[Edit, topology.LoadedTopology]:
    """``change`` applied to topology ``text`` (a stored one: the REST API's), and the result
    validated by ``load`` (which decides the folder chaincode paths resolve in). Writes
    nothing; raises :class:`topology.TopologyError` for a ``text`` the edit cannot read or
    a result that does not validate."""
    made = apply_chaincode_change(text, change, source=source)
    return made, load(made.text)


def deliver_edited(
    loaded: topology.LoadedTopology,
    made: Edit,
    change: ChaincodeChange,
    *,
    target: Target = "local",
    kube: Any = None,
    report: Report = _quiet,
    signers: frozenset[str] | None = None,
    who: str | None = None,
    started: float | None = None,
) -> Outcome[Delivery]:
    """The delivery of an already edited and validated topology (``made`` is the edit that
    produced ``loaded``): what :func:`deliver_file` runs after writing the file, and what
    the REST API runs after storing the edited topology. ``who`` is recorded in the history
    (None: the machine's user); ``started`` is the :func:`time.monotonic` the delivery's
    duration counts from (None: now). Raises as :func:`deliver_file` does."""
    start = time.monotonic() if started is None else started
    name, channel = _find(loaded, change.name, change.channel)
    network = loaded.network.metadata.name
    try:
        plan = planning.build(loaded.network)
        runtime = runtime_for(target, loaded, kube=kube)
        runtime.preflight(plan)
        done = runtime.deliver(
            plan, crypto=crypto_dir(network), report=report, signers=signers
        ).to_dict()
    except BaasError as exc:
        _record(
            network,
            name,
            channel,
            made,
            outcome="failed",
            seconds=time.monotonic() - start,
            error=exc.message,
            who=who,
        )
        raise
    listed = chaincode_list(loaded, target=target, kube=kube).value
    committed = next(
        (
            c
            for ch in listed.channels
            for c in ch.committed
            if (c.channel, c.name) == (channel, name)
        ),
        None,
    )
    phases = list(done.get("phases", []))
    delivery = Delivery(
        network,
        name,
        channel,
        made.outcome,
        made.diff,
        phases=phases,
        committed=committed,
        awaiting=_awaiting(phases, name),
        seconds=time.monotonic() - start,
    )
    _record(
        network,
        name,
        channel,
        made,
        outcome="awaiting approval" if delivery.awaiting else "delivered",
        seconds=delivery.seconds,
        committed=committed,
        who=who,
    )
    return Outcome("ChaincodeDelivery", delivery, loaded.warnings)


def _awaiting(phases: list[dict[str, Any]], name: str) -> str | None:
    """The ``awaiting`` change of chaincode ``name`` in a run's phases, if any."""
    prefix = f"awaiting {name}: "
    for phase in phases:
        for change in phase.get("changes", []):
            if str(change).startswith(prefix):
                return str(change).removeprefix(prefix)
    return None


def _record(
    network: str,
    name: str,
    channel: str,
    made: Edit,
    *,
    outcome: str,
    seconds: float,
    committed: Committed | None = None,
    error: str | None = None,
    who: str | None = None,
) -> None:
    """Append one line to :func:`history_file`; ``who`` delivered (None: the machine's
    user)."""
    entry = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "who": who or _machine_user(),
        "chaincode": name,
        "channel": channel,
        "edit": made.outcome,
        "fields": list(made.changed),
        "outcome": outcome,
        "seconds": round(seconds, 3),
        "version": committed.version if committed else None,
        "sequence": committed.sequence if committed else None,
        "packages": {a.org: a.package_id for a in committed.approvals} if committed else None,
        "error": error,
    }
    path = history_file(network)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(entry, sort_keys=True) + "\n")


def _machine_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid (a bare container)
        return f"uid {os.getuid()}"


def read_history(
    network: str, *, chaincode: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """The network's recorded deliveries (of ``chaincode`` when given), newest first, at most
    ``limit``: the :func:`history_file` lines as written (lines recorded before ``who`` was
    kept have ``who`` None). A line that is not a JSON object (a write cut short) is
    skipped; no file is an empty history."""
    try:
        lines = history_file(network).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    found: list[dict[str, Any]] = []
    for line in reversed(lines):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict) or chaincode not in (None, entry.get("chaincode")):
            continue
        found.append({"who": None, **entry})
        if len(found) >= limit:
            break
    return found
