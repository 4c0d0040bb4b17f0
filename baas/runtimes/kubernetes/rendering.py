"""``baas render``: every organisation's Helm values and fully rendered manifests, as files.

Layout written under the output folder::

    cluster/namespaces.yaml          Namespace objects (baas applies them; the chart does not)
    cluster/network-policies.yaml    NetworkPolicies (baas.runtimes.kubernetes.policies), if any
    orgs/<org>/values.yaml           values of the org's release of charts/fabric
    orgs/<org>/manifests.yaml        `helm template` of that release (without test hooks)
    orgs/<org>/tests.yaml            its `helm test` pods (absent when the org has no peers)
    .baas-render.json                what the last render wrote (to clean up stale files)

Everything is computed first (helm runs once per organisation, in parallel); files are written
only when every organisation rendered. Writing is an *ensure*: a file is rewritten only when its
bytes differ, and files that an earlier render wrote but this one does not are removed.
Nothing here holds key material: values carry names only, and any values or manifest text that
looks like a private key is refused.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

import pki
from baas.errors import OperationError, UsageError
from baas.plan import OrgPlan, Plan, pki_org_specs_from_plan
from baas.runtimes.kubernetes import helm
from baas.runtimes.kubernetes import values as chart_values

MARKER = ".baas-render.json"
FileAction = Literal["created", "updated", "unchanged", "removed"]

_SOURCE = re.compile(r"^# Source: [^/\n]+/templates/(\S+)$", re.MULTILINE)

ManifestHook = Callable[[Plan], list[dict[str, Any]]]

# Where the cluster-wide manifests come from: (module, function) pairs tried in order; the
# first that exists is used. NetworkPolicies are written by another part of baas; until it
# exists the file is simply not produced.
NAMESPACE_HOOKS: tuple[tuple[str, str], ...] = (
    ("baas.runtimes.kubernetes.policies", "namespace_manifests"),
    ("baas.runtimes.kubernetes.namespaces", "namespace_manifests"),
)
NETWORK_POLICY_HOOKS: tuple[tuple[str, str], ...] = (
    ("baas.runtimes.kubernetes.policies", "network_policies"),
)


@dataclass(frozen=True)
class FileChange:
    """One file of the output folder and what this render did to it."""

    path: str
    action: FileAction


@dataclass(frozen=True)
class RenderResult:
    """What :func:`render` produced. ``paths`` are relative to ``out_dir``."""

    out_dir: Path
    orgs: tuple[str, ...]
    files: tuple[FileChange, ...]
    seconds: float
    missing_hooks: tuple[str, ...] = field(default=())

    @property
    def changed(self) -> tuple[FileChange, ...]:
        return tuple(f for f in self.files if f.action != "unchanged")


@dataclass(frozen=True)
class OrgRender:
    """One organisation's rendered release (in memory)."""

    org: str
    namespace: str
    release: str
    values: dict[str, Any]
    values_yaml: str
    manifests: str
    tests: str


def _dump_yaml(data: Any) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return str(
        yaml.dump(
            data,
            Dumper=dumper,
            sort_keys=False,
            default_flow_style=False,
            allow_unicode=True,
            width=100,
        )
    )


def _dump_all(documents: Sequence[Mapping[str, Any]]) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return str(
        yaml.dump_all(
            documents,
            Dumper=dumper,
            sort_keys=False,
            default_flow_style=False,
            width=100,
            explicit_start=True,
        )
    )


def split_tests(rendered: str) -> tuple[str, str]:
    """Split ``helm template`` output into (manifests, test hooks) by each document's
    ``# Source:`` line; documents from ``templates/tests/`` are tests. Pure."""
    manifests: list[str] = []
    tests: list[str] = []
    for doc in rendered.split("\n---\n"):
        body = doc.removeprefix("---\n")
        if not body.strip():
            continue
        match = _SOURCE.search(body)
        target = tests if match and match.group(1).startswith("tests/") else manifests
        target.append(body.rstrip("\n") + "\n")
    return _join(manifests), _join(tests)


def _join(documents: Sequence[str]) -> str:
    return "".join(f"---\n{d}" for d in documents)


def render_org(
    plan: Plan,
    org: OrgPlan,
    *,
    options: chart_values.ValuesOptions,
    extra_values: Sequence[Mapping[str, Any]] = (),
    identity_digests: Mapping[str, str] | None = None,
    helm_path: Path | None = None,
    kube_version: str = helm.KUBE_VERSION,
    chart: Path = helm.CHART_DIR,
) -> OrgRender:
    """Values and ``helm template`` output of one organisation. Writes nothing.

    ``identity_digests`` (node FQDN → certificate digest) go on the nodes' pod templates as in
    :func:`baas.runtimes.kubernetes.values.org_values`. Raises UsageError when
    ``extra_values`` hold key material, OperationError when helm fails.
    """
    merged: dict[str, Any] = chart_values.org_values(
        plan, org, options, identity_digests=identity_digests
    )
    for extra in extra_values:
        merged = chart_values.merge_values(merged, extra)
    chart_values.check_no_key_material(merged, source=f"the values of organisation {org.name}")
    values_yaml = _dump_yaml(merged)
    release = chart_values.release_name(org)
    rendered = helm.template(
        release=release,
        namespace=org.namespace,
        values_yaml=values_yaml,
        chart=chart,
        kube_version=kube_version,
        helm=helm_path,
        what=f"rendering organisation {org.name}",
    )
    if chart_values.PRIVATE_KEY_PATTERN.search(rendered):
        raise OperationError(
            f"the manifests rendered for organisation {org.name} contain private key material",
            hint="keys must reach pods from Secrets or Vault only; check the --values files and "
            "charts/fabric",
        )
    manifests, tests = split_tests(rendered)
    return OrgRender(
        org=org.name,
        namespace=org.namespace,
        release=release,
        values=merged,
        values_yaml=values_yaml,
        manifests=manifests,
        tests=tests,
    )


def render_orgs(
    plan: Plan,
    *,
    options: chart_values.ValuesOptions,
    extra_values: Sequence[Mapping[str, Any]] = (),
    identity_digests: Mapping[str, str] | None = None,
    workers: int | None = None,
    helm_path: Path | None = None,
    kube_version: str = helm.KUBE_VERSION,
    meanwhile: Callable[[], Any] | None = None,
) -> list[OrgRender]:
    """:func:`render_org` for every organisation, ``workers`` helm processes at a time (default:
    the CPU count). Results follow the plan's order; the first failure is raised.

    ``meanwhile`` (optional) runs in the calling thread while the helm processes work.
    """
    executable = helm_path or helm.helm_binary()
    count = max(1, workers or os.cpu_count() or 1)

    def one(org: OrgPlan) -> OrgRender:
        return render_org(
            plan,
            org,
            options=options,
            extra_values=extra_values,
            identity_digests=identity_digests,
            helm_path=executable,
            kube_version=kube_version,
        )

    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="helm") as pool:
        futures = [pool.submit(one, org) for org in plan.orgs]
        try:
            if meanwhile is not None:
                meanwhile()
            return [f.result() for f in futures]
        finally:
            for future in futures:
                future.cancel()


def _hook(candidates: Sequence[tuple[str, str]]) -> ManifestHook | None:
    for module_name, function in candidates:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        fn = getattr(module, function, None)
        if callable(fn):
            hook: ManifestHook = fn
            return hook
    return None


def cluster_files(plan: Plan) -> tuple[dict[str, str], tuple[str, ...]]:
    """Cluster-wide manifests as ``{relative path: text}``, and the names of hooks that are not
    available yet (their files are omitted)."""
    files: dict[str, str] = {}
    missing: list[str] = []
    for path, candidates in (
        ("cluster/namespaces.yaml", NAMESPACE_HOOKS),
        ("cluster/network-policies.yaml", NETWORK_POLICY_HOOKS),
    ):
        hook = _hook(candidates)
        if hook is None:
            missing.append(".".join(candidates[0]))
            continue
        documents = hook(plan)
        if documents:
            files[path] = _dump_all(documents)
    return files, tuple(missing)


def planned_files(renders: Sequence[OrgRender], cluster: Mapping[str, str]) -> dict[str, str]:
    """Every file of a render: ``{relative path: text}``, in a stable order."""
    files = dict(cluster)
    for r in renders:
        files[f"orgs/{r.org}/values.yaml"] = r.values_yaml
        files[f"orgs/{r.org}/manifests.yaml"] = r.manifests
        if r.tests:
            files[f"orgs/{r.org}/tests.yaml"] = r.tests
    return files


def _previous(out_dir: Path) -> list[str]:
    marker = out_dir / MARKER
    if not marker.is_file():
        return []
    try:
        data = json.loads(marker.read_text())
    except (OSError, ValueError):
        return []
    files = data.get("files") if isinstance(data, dict) else None
    return [f for f in files if isinstance(f, str)] if isinstance(files, list) else []


def _safe_relative(path: str) -> bool:
    parts = Path(path).parts
    return bool(parts) and not Path(path).is_absolute() and ".." not in parts


def write_files(out_dir: Path, files: Mapping[str, str]) -> list[FileChange]:
    """Ensure ``out_dir`` holds exactly ``files`` among the files baas rendered there: write a
    file only when its text differs, remove files the previous render listed in its marker and
    this one does not produce. Files baas never wrote are left alone.

    Raises UsageError when ``out_dir`` exists and is not a folder; OperationError when a file
    cannot be written.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir} exists and is not a folder", hint="choose another --out")
    changes: list[FileChange] = []
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for rel, text in files.items():
            target = out_dir / rel
            data = text.encode()
            if target.is_file() and target.read_bytes() == data:
                changes.append(FileChange(rel, "unchanged"))
                continue
            action: FileAction = "updated" if target.exists() else "created"
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_bytes(data)
            tmp.chmod(0o644)
            tmp.replace(target)
            changes.append(FileChange(rel, action))
        for rel in _previous(out_dir):
            if rel in files or not _safe_relative(rel):
                continue
            stale = out_dir / rel
            if stale.is_file():
                stale.unlink()
                changes.append(FileChange(rel, "removed"))
                _prune_empty(stale.parent, out_dir)
        marker = json.dumps({"files": sorted(files)}, indent=2) + "\n"
        marker_path = out_dir / MARKER
        if not marker_path.is_file() or marker_path.read_text() != marker:
            marker_path.write_text(marker)
    except OSError as exc:
        raise OperationError(
            f"could not write the rendered files under {out_dir}: "
            f"{exc.strerror or type(exc).__name__} ({exc.filename})",
            hint="check the folder's permissions and free space",
        ) from None
    return changes


def _prune_empty(folder: Path, root: Path) -> None:
    while folder != root and root in folder.parents and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def load_values_files(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """Read user ``--values`` files (YAML mappings). Raises UsageError naming the file when it is
    missing, not YAML, not a mapping, or holds key material."""
    loaded: list[dict[str, Any]] = []
    for path in paths:
        try:
            data = yaml.safe_load(path.read_text())
        except OSError as exc:
            raise UsageError(
                f"cannot read values file {path}: {exc.strerror}", hint="check the path"
            ) from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise UsageError(
                f"values file {path} is not valid YAML{where}", hint="fix the YAML syntax"
            ) from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise UsageError(
                f"values file {path} must hold a mapping at the top",
                hint="write it like the chart's values.yaml (key: value)",
            )
        chart_values.check_no_key_material(data, source=f"values file {path}")
        loaded.append(data)
    return loaded


def render(
    plan: Plan,
    out_dir: Path,
    *,
    options: chart_values.ValuesOptions | None = None,
    extra_values: Sequence[Mapping[str, Any]] = (),
    crypto_root: Path | None = None,
    workers: int | None = None,
    helm_path: Path | None = None,
    kube_version: str = helm.KUBE_VERSION,
) -> RenderResult:
    """Render every organisation of ``plan`` and ensure the files under ``out_dir`` (see the
    module docstring for the layout). Nothing is written when any organisation fails to render.

    When ``crypto_root`` holds the network's PKI tree, each node's pod template carries the
    digest of its certificates, as ``baas up`` deploys it
    (:func:`pki.identity_digests`); without a tree there are no digests.
    """
    started = time.perf_counter()
    cluster: dict[str, str] = {}
    missing: list[str] = []

    def cluster_manifests() -> None:
        files, absent = cluster_files(plan)
        cluster.update(files)
        missing.extend(absent)

    renders = render_orgs(
        plan,
        options=options or chart_values.ValuesOptions(),
        extra_values=extra_values,
        identity_digests=(
            pki.identity_digests(crypto_root, pki_org_specs_from_plan(plan))
            if crypto_root
            else None
        ),
        workers=workers,
        helm_path=helm_path,
        kube_version=kube_version,
        meanwhile=cluster_manifests,
    )
    changes = write_files(out_dir, planned_files(renders, cluster))
    return RenderResult(
        out_dir=out_dir,
        orgs=tuple(r.org for r in renders),
        files=tuple(changes),
        seconds=time.perf_counter() - started,
        missing_hooks=tuple(missing),
    )
