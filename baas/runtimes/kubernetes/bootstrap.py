"""Channels and chaincode on Kubernetes: an admin Job in the toolbox namespace does the work.

After namespaces, policies, key material and the Helm releases are applied, :func:`ensure_bootstrap`
applies three objects in ``<network>-toolbox``:

* Secret ``bootstrap-crypto``: every organisation's verifying MSP (cacerts, tlscacerts, crls,
  config.yaml), its admin's local MSP and TLS client pair, and each orderer's TLS server and
  signing certificates (consenters). Laid out by :mod:`baas.runtimes.kubernetes.toolbox_layout`;
  the only object holding key material.
* ConfigMap ``bootstrap-inputs``: ``configtx.yaml`` (:mod:`baas.network.configtx`, with the
  nodes' Service addresses of :class:`~baas.runtimes.kubernetes.addresses.KubernetesAddresses`),
  ``steps.tsv`` (what to do, :func:`bootstrap_steps`), ``bootstrap.sh`` (the idempotent script
  shipped next to this module) and one chaincode-as-a-service package per organisation and
  chaincode (``binaryData``, :mod:`baas.network.packaging`).
* Job ``bootstrap-<digest[:10]>`` running the script in ``hyperledger/fabric-tools:<release>``
  (registry prefix configurable) under the ``restricted`` Pod Security profile. ``digest`` is the
  SHA-256 of all three objects' content: Jobs are immutable, so changed inputs give a new Job
  (older ones are deleted with their pods); unchanged inputs leave the existing Job alone, and a
  Job that *failed* is deleted and created again so that re-running ``baas up`` retries.
  ``ttlSecondsAfterFinished`` is left unset so results stay inspectable (``kubectl logs``).

"Objects applied" is not "work done": :func:`bootstrap_status` reads the Job's state (on a
cluster without kubelets it stays ``pending``) and :func:`wait_bootstrap` waits for it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pki
from baas.addressing import Addresses
from baas.errors import OperationError, UsageError
from baas.network import configtx, packaging
from baas.plan import ChaincodePlan, NodePlan, OrgPlan, Plan, pki_org_specs_from_plan
from baas.runtimes.kubernetes import toolbox_layout as layout
from baas.runtimes.kubernetes.addresses import DEFAULT_CLUSTER_DOMAIN, KubernetesAddresses
from baas.runtimes.kubernetes.applying import ObjectChange, delete_objects, ensure_objects
from baas.runtimes.kubernetes.namespaces import (
    APP_NAME,
    LABEL_COMPONENT,
    LABEL_MANAGED_BY,
    LABEL_NAME,
    LABEL_NETWORK,
    MANAGED_BY,
    toolbox_namespace,
)
from pki.layout import OrgPaths
from pki.msp import config_yaml

COMPONENT_TOOLBOX = "toolbox"
SECRET_NAME = "bootstrap-crypto"
CONFIG_MAP_NAME = "bootstrap-inputs"
JOB_PREFIX = "bootstrap-"
DIGEST_ANNOTATION = "baas.io/inputs-digest"
SCRIPT_KEY = "bootstrap.sh"
CONFIGTX_KEY = "configtx.yaml"
STEPS_KEY = "steps.tsv"
TOOLS_REPOSITORY = "hyperledger/fabric-tools"
RUN_AS = 10001
CONTAINER_NAME = "bootstrap"

State = Literal["absent", "pending", "running", "succeeded", "failed"]


@dataclass(frozen=True)
class BootstrapOptions:
    """Choices outside the topology. ``image_registry`` prefixes the tools image (air-gapped
    clusters); ``cluster_domain`` is the cluster's DNS suffix (node TLS certificates name
    ``*.svc.cluster.local``); ``backoff_limit`` bounds Job retries; the script retries each step
    ``attempts`` times, ``retry_delay`` seconds apart (nodes may still be starting)."""

    image_registry: str = ""
    tools_repository: str = TOOLS_REPOSITORY
    cluster_domain: str = DEFAULT_CLUSTER_DOMAIN
    backoff_limit: int = 6
    attempts: int = 10
    retry_delay: int = 6


# --------------------------------------------------------------------------- pure: names, steps


def labels(plan: Plan) -> dict[str, str]:
    """Labels of every bootstrap object (and of the Job's pods)."""
    return {
        LABEL_NAME: APP_NAME,
        LABEL_COMPONENT: COMPONENT_TOOLBOX,
        LABEL_MANAGED_BY: MANAGED_BY,
        LABEL_NETWORK: plan.network,
    }


def job_selector(plan: Plan) -> str:
    """Label selector of the network's bootstrap Jobs."""
    return ",".join(f"{k}={v}" for k, v in labels(plan).items())


def tools_image(plan: Plan, options: BootstrapOptions) -> str:
    """``[<registry>/]<tools repository>:<fabric release>``."""
    registry = options.image_registry.strip().rstrip("/")
    repository = f"{registry}/{options.tools_repository}" if registry else options.tools_repository
    return f"{repository}:{plan.fabric_release}"


def script_text() -> str:
    """The bootstrap script shipped as package data (``baas/runtimes/kubernetes/bootstrap.sh``)."""
    script = resources.files("baas.runtimes.kubernetes").joinpath("bootstrap.sh")
    return script.read_text(encoding="utf-8")


Step = tuple[str, ...]


def _channel_steps(plan: Plan, addresses: Addresses) -> list[Step]:
    steps: list[Step] = []
    for channel in plan.channels:
        orderers = configtx.consenters(plan, channel)
        block: list[str] = ["block", channel.name, configtx.profile_name(channel)]
        for node in orderers:
            block += [
                node.org,
                plan.org(node.org).msp_id,
                str(addresses.admin(node)),
                str(addresses.orderer(node)),
            ]
        steps.append(tuple(block))
        steps += [("osn-join", channel.name, n.org, str(addresses.admin(n))) for n in orderers]
        for name in channel.members:
            org = plan.org(name)
            steps += [
                ("peer-join", channel.name, org.name, org.msp_id, str(addresses.peer(p)))
                for p in org.peers
            ]
    return steps


def _approver(org: OrgPlan) -> NodePlan:
    return org.anchor_peers[0]


def init_ctor(chaincode: ChaincodePlan) -> str:
    """The ``--ctor`` of the chaincode's Init: ``{"Args":[]}``, or
    ``{"function":"<initFunction>","Args":[]}`` when the topology names a function.

    fabric-contract-api-go answers an Init with empty arguments with success without running
    any transaction function ("Default initiator successful."); with a function name it routes
    the call like an ordinary transaction (the Fabric samples initialise with ``InitLedger``).
    Chaincodes on other APIs that need a function name must set ``initFunction``."""
    ctor: dict[str, object] = {"Args": []}
    if chaincode.init_function:
        ctor = {"function": chaincode.init_function, "Args": []}
    return json.dumps(ctor, separators=(",", ":"))


def _chaincode_steps(
    plan: Plan, packages: Sequence[packaging.ChaincodePackage], addresses: Addresses
) -> list[Step]:
    steps: list[Step] = []
    channels = {ch.name: ch for ch in plan.channels}
    for cc in plan.chaincodes:
        own = [p for p in packages if p.chaincode == cc.name and p.channel == cc.channel]
        channel = channels.get(cc.channel)
        if not own or channel is None:
            continue
        orderer = configtx.consenters(plan, channel)[0]
        definition = (
            cc.channel,
            cc.name,
            cc.version,
            "-" if cc.endorsement_is_default else cc.endorsement,
            "yes" if cc.init_required else "no",
        )
        via = (orderer.org, str(addresses.orderer(orderer)))
        for pkg in own:
            org = plan.org(pkg.org)
            steps += [
                (
                    "install",
                    org.name,
                    org.msp_id,
                    str(addresses.peer(p)),
                    pkg.file_name,
                    pkg.package_id,
                )
                for p in org.peers
            ]
        for pkg in own:
            org = plan.org(pkg.org)
            peer = str(addresses.peer(_approver(org)))
            steps.append(("approve", *definition, org.name, org.msp_id, peer, *via, pkg.package_id))
        first = plan.org(own[0].org)
        submitter = (first.name, first.msp_id, str(addresses.peer(_approver(first))))
        targets = [
            item
            for pkg in own
            for item in (pkg.org, str(addresses.peer(_approver(plan.org(pkg.org)))))
        ]
        steps.append(("commit", *definition, *submitter, *via, *targets))
        if cc.init_required:
            steps.append(("init", cc.channel, cc.name, init_ctor(cc), *submitter, *via, *targets))
    return steps


def bootstrap_steps(
    plan: Plan,
    packages: Sequence[packaging.ChaincodePackage],
    *,
    addresses: Addresses,
) -> list[Step]:
    """What the script does, in order (formats in ``bootstrap.sh``'s header): per channel the
    genesis block, orderer joins (every consenter), peer joins (every peer of every member);
    then per chaincode installs (every peer of every serving organisation, each with its own
    package), approvals (one per organisation, through its anchor peer), one commit (endorsed
    by one peer per organisation) and, for ``initRequired``, one Init (endorsed by the same
    peers: every member, which satisfies the default MAJORITY and an AND of all members).
    Approvals, commits and Init go to the channel's first orderer. Every node is named by its
    endpoint in ``addresses`` (on Kubernetes, :class:`KubernetesAddresses`).

    Sequences are not in the steps: the script derives them from the committed definition, so
    a changed version, policy or init flag gives new steps (hence a new Job) that upgrade the
    chaincode at the next sequence."""
    return _channel_steps(plan, addresses) + _chaincode_steps(plan, packages, addresses)


def steps_tsv(steps: Iterable[Step]) -> str:
    """Tab-separated lines, one per step. Raises :class:`UsageError` for an empty field or one
    holding a tab or line break (an endorsement policy, the only free text, is the suspect)."""
    lines = []
    for step in steps:
        for value in step:
            if not value or any(c in value for c in "\t\r\n"):
                raise UsageError(
                    f"cannot pass {value!r} to the bootstrap script ({step[0]} step)",
                    hint="endorsement policies must be on one line, without tabs",
                )
        lines.append("\t".join(step))
    return "".join(f"{line}\n" for line in lines)


# --------------------------------------------------------------------------- crypto files


def crypto_files(plan: Plan, crypto_root: Path) -> dict[str, bytes]:
    """Relative path (:mod:`~baas.runtimes.kubernetes.toolbox_layout`) → content of every file
    the toolbox needs, read from the PKI tree at ``crypto_root``. Holds the admins' private
    keys: never log it.

    Raises :class:`UsageError` naming the first missing file (run ``baas pki generate``).
    """
    specs = {spec.name: spec for spec in pki_org_specs_from_plan(plan)}
    files: dict[str, bytes] = {}
    for org in plan.orgs:
        spec = specs[org.name]
        paths = OrgPaths.of(crypto_root, spec)
        if not paths.msp.is_dir():
            raise UsageError(f"{paths.msp} is missing", hint="run `baas pki generate` to issue it")
        for path in sorted(p for p in paths.msp.rglob("*") if p.is_file()):
            relative = path.relative_to(paths.msp).as_posix()
            if not relative.startswith("keystore/"):
                files[f"{layout.org_msp(org.name)}/{relative}"] = path.read_bytes()
        admin = pki.load_bundle(crypto_root, spec, org.admin)
        ca_name = paths.authority("ca").cert_name
        msp, tls = layout.admin_msp(org.name), layout.admin_tls(org.name)
        files[f"{msp}/signcerts/cert.pem"] = admin.sign_cert
        files[f"{msp}/keystore/priv_sk"] = admin.sign_key.reveal()
        files[f"{msp}/cacerts/{ca_name}"] = admin.ca_cert
        files[f"{msp}/tlscacerts/{paths.authority('tlsca').cert_name}"] = admin.tls_ca_cert
        files[f"{msp}/config.yaml"] = config_yaml(ca_name)
        files[f"{tls}/client.crt"] = admin.tls_cert
        files[f"{tls}/client.key"] = admin.tls_key.reveal()
        files[f"{tls}/ca.crt"] = admin.tls_ca_cert
        for node in org.orderers:
            bundle = pki.load_bundle(crypto_root, spec, node.fqdn)
            files[layout.orderer_tls_cert(org.name, node.name)] = bundle.tls_cert
            files[layout.orderer_sign_cert(org.name, node.name)] = bundle.sign_cert
    return files


# --------------------------------------------------------------------------- pure: manifests


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _metadata(plan: Plan, name: str) -> dict[str, Any]:
    return {"name": name, "namespace": toolbox_namespace(plan), "labels": labels(plan)}


def secret_manifest(plan: Plan, files: dict[str, bytes]) -> dict[str, Any]:
    """The toolbox Secret: one key per file (:func:`layout.secret_key`). Holds key material."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _metadata(plan, SECRET_NAME),
        "type": "Opaque",
        "data": {layout.secret_key(path): _b64(files[path]) for path in sorted(files)},
    }


def config_map_manifest(
    plan: Plan,
    *,
    configtx_yaml: str,
    steps: str,
    packages: Sequence[packaging.ChaincodePackage],
) -> dict[str, Any]:
    """The toolbox ConfigMap: configtx.yaml, steps.tsv, bootstrap.sh and the packages."""
    manifest: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(plan, CONFIG_MAP_NAME),
        "data": {SCRIPT_KEY: script_text(), CONFIGTX_KEY: configtx_yaml, STEPS_KEY: steps},
    }
    if packages:
        manifest["binaryData"] = {p.file_name: _b64(p.data) for p in packages}
    return manifest


_RESTRICTED_CONTAINER: dict[str, Any] = {
    "runAsNonRoot": True,
    "runAsUser": RUN_AS,
    "runAsGroup": RUN_AS,
    "allowPrivilegeEscalation": False,
    "privileged": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
_RESTRICTED_POD: dict[str, Any] = {
    "runAsNonRoot": True,
    "runAsUser": RUN_AS,
    "runAsGroup": RUN_AS,
    "fsGroup": RUN_AS,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def job_manifest(
    plan: Plan, *, secret_keys: Sequence[str], digest: str, options: BootstrapOptions
) -> dict[str, Any]:
    """The bootstrap Job, named ``bootstrap-<digest[:10]>``. ``secret_keys`` are the toolbox
    Secret's keys; each is mounted at its path under :data:`layout.CRYPTO_DIR`."""
    meta = _metadata(plan, f"{JOB_PREFIX}{digest[:10]}")
    meta["annotations"] = {DIGEST_ANNOTATION: digest}
    items = [{"key": key, "path": key.replace("__", "/")} for key in sorted(secret_keys)]
    env = {
        "CRYPTO_DIR": str(layout.CRYPTO_DIR),
        "INPUT_DIR": str(layout.INPUT_DIR),
        "WORK_DIR": str(layout.WORK_DIR),
        "HOME": "/tmp",
        "ATTEMPTS": str(options.attempts),
        "RETRY_DELAY": str(options.retry_delay),
    }
    container = {
        "name": CONTAINER_NAME,
        "image": tools_image(plan, options),
        "imagePullPolicy": "IfNotPresent",
        "command": ["bash", f"{layout.INPUT_DIR}/{SCRIPT_KEY}"],
        "env": [{"name": k, "value": v} for k, v in env.items()],
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "512Mi"}},
        "securityContext": _RESTRICTED_CONTAINER,
        "volumeMounts": [
            {"name": "crypto", "mountPath": str(layout.CRYPTO_DIR), "readOnly": True},
            {"name": "inputs", "mountPath": str(layout.INPUT_DIR), "readOnly": True},
            {"name": "work", "mountPath": "/tmp"},
        ],
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta,
        "spec": {
            "backoffLimit": options.backoff_limit,
            "template": {
                "metadata": {"labels": labels(plan), "annotations": {DIGEST_ANNOTATION: digest}},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": _RESTRICTED_POD,
                    "containers": [container],
                    "volumes": [
                        {
                            "name": "crypto",
                            "secret": {
                                "secretName": SECRET_NAME,
                                "defaultMode": 0o440,
                                "items": items,
                            },
                        },
                        {
                            "name": "inputs",
                            "configMap": {"name": CONFIG_MAP_NAME, "defaultMode": 0o444},
                        },
                        {"name": "work", "emptyDir": {"sizeLimit": "256Mi"}},
                    ],
                },
            },
        },
    }


def inputs_digest(
    secret: dict[str, Any], config_map: dict[str, Any], job_spec: dict[str, Any]
) -> str:
    """SHA-256 (hex) over the Secret's data, the ConfigMap's data and the Job's spec."""
    content = {
        "secret": secret.get("data", {}),
        "configMap": [config_map.get("data", {}), config_map.get("binaryData", {})],
        "job": job_spec,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class BootstrapInputs:
    """The three toolbox objects. ``secret`` holds key material (hidden from ``repr``)."""

    secret: dict[str, Any] = field(repr=False)
    config_map: dict[str, Any]
    job: dict[str, Any]
    digest: str

    @property
    def job_name(self) -> str:
        return str(self.job["metadata"]["name"])

    @property
    def namespace(self) -> str:
        return str(self.job["metadata"]["namespace"])


def build_inputs(
    plan: Plan, crypto_root: Path, options: BootstrapOptions | None = None
) -> BootstrapInputs | None:
    """The toolbox objects for ``plan`` (``None`` when the plan has no channel: nothing to do).

    Reads the PKI tree; raises :class:`UsageError` when a file is missing or an input cannot
    be passed to the script. Deterministic: same plan, tree and options, same objects."""
    opts = options or BootstrapOptions()
    if not plan.channels:
        return None
    addresses = KubernetesAddresses(cluster_domain=opts.cluster_domain)
    packages = packaging.plan_packages(plan, addresses=addresses)
    secret = secret_manifest(plan, crypto_files(plan, crypto_root))
    config_map = config_map_manifest(
        plan,
        configtx_yaml=configtx.configtx_yaml(
            plan, addresses=addresses, files=layout.ToolboxFiles()
        ),
        steps=steps_tsv(bootstrap_steps(plan, packages, addresses=addresses)),
        packages=packages,
    )
    keys = list(secret["data"])
    draft = job_manifest(plan, secret_keys=keys, digest="", options=opts)
    digest = inputs_digest(secret, config_map, draft["spec"])
    job = job_manifest(plan, secret_keys=keys, digest=digest, options=opts)
    return BootstrapInputs(secret=secret, config_map=config_map, job=job, digest=digest)


# --------------------------------------------------------------------------- Job state


@dataclass(frozen=True)
class BootstrapStatus:
    """The state of the network's newest bootstrap Job (``absent`` when there is none).

    ``pending`` covers "created, no pod running yet" — on a cluster without kubelets (or with
    the image still pulling) a Job stays there."""

    job: str | None
    state: State
    active: int = 0
    succeeded: int = 0
    failed: int = 0
    message: str = ""

    @property
    def done(self) -> bool:
        return self.state in ("succeeded", "failed")


def job_state(job: dict[str, Any]) -> State:
    """The state of a Job read from the API (as a JSON-shaped dict). Pure."""
    status = job.get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("status") != "True":
            continue
        if condition.get("type") == "Complete":
            return "succeeded"
        if condition.get("type") == "Failed":
            return "failed"
    if (status.get("ready") or 0) > 0:
        return "running"
    return "pending"


def _status_of(job: dict[str, Any]) -> BootstrapStatus:
    status = job.get("status") or {}
    messages = [
        f"{c.get('type')}: {c.get('reason', '')} {c.get('message', '')}".strip()
        for c in status.get("conditions") or []
        if c.get("status") == "True"
    ]
    return BootstrapStatus(
        job=str(job["metadata"]["name"]),
        state=job_state(job),
        active=int(status.get("active") or 0),
        succeeded=int(status.get("succeeded") or 0),
        failed=int(status.get("failed") or 0),
        message="; ".join(messages),
    )


# --------------------------------------------------------------------------- I/O


def _api_error(exc: Exception, what: str) -> OperationError:
    status = getattr(exc, "status", None)
    message = str(getattr(exc, "reason", "") or type(exc).__name__)
    body = getattr(exc, "body", None)
    if isinstance(body, str | bytes):
        with contextlib.suppress(ValueError, AttributeError):
            message = str(json.loads(body).get("message", message))
    return OperationError(
        f"Kubernetes refused {what} (HTTP {status}): {message}",
        hint="check the cluster is reachable and the kubeconfig's user may manage Jobs, "
        "Secrets and ConfigMaps in the toolbox namespace",
    )


def _batch(api_client: Any) -> Any:
    from kubernetes import client

    return client.BatchV1Api(api_client)


def list_jobs(api_client: Any, plan: Plan) -> list[dict[str, Any]]:
    """The network's bootstrap Jobs not being deleted, oldest first."""
    namespace = toolbox_namespace(plan)
    try:
        listed = _batch(api_client).list_namespaced_job(
            namespace, label_selector=job_selector(plan)
        )
    except Exception as exc:
        raise _api_error(exc, f"listing Jobs in {namespace}") from None
    items = api_client.sanitize_for_serialization(listed).get("items") or []
    jobs = [dict(j) for j in items if not (j.get("metadata") or {}).get("deletionTimestamp")]
    return sorted(
        jobs,
        key=lambda j: (j["metadata"].get("creationTimestamp", ""), j["metadata"]["name"]),
    )


def _delete_job(api_client: Any, namespace: str, name: str) -> bool:
    """Delete a Job and (Background propagation) its pods; ``False`` when it was absent."""
    from kubernetes.client.exceptions import ApiException

    try:
        _batch(api_client).delete_namespaced_job(name, namespace, propagation_policy="Background")
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise _api_error(exc, f"deleting Job {namespace}/{name}") from None
    return True


def _wait_gone(api_client: Any, namespace: str, name: str, timeout: float = 60.0) -> None:
    from kubernetes.client.exceptions import ApiException

    deadline = time.monotonic() + timeout
    while True:
        try:
            _batch(api_client).read_namespaced_job(name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return
            raise _api_error(exc, f"reading Job {namespace}/{name}") from None
        if time.monotonic() >= deadline:
            raise OperationError(
                f"Job {namespace}/{name} is still being deleted after {timeout:.0f}s",
                hint=f"check its finalizers: kubectl -n {namespace} get job {name} -o yaml",
            )
        time.sleep(0.5)


@dataclass
class BootstrapResult:
    """What :func:`ensure_bootstrap` did. ``job`` is ``None`` when there was nothing to do."""

    job: str | None = None
    digest: str | None = None
    objects: list[ObjectChange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(c.action != "unchanged" for c in self.objects)


def ensure_bootstrap(
    api_client: Any,
    plan: Plan,
    crypto_root: Path,
    options: BootstrapOptions | None = None,
    *,
    on_change: Callable[[ObjectChange], None] | None = None,
) -> BootstrapResult:
    """Apply the toolbox Secret, ConfigMap and Job for ``plan``; an *ensure*.

    Order: Jobs of older inputs are deleted (with their pods), the Secret and ConfigMap are
    server-side applied (``unchanged`` when identical), then the Job is created unless a Job
    with the same inputs exists; a Job with the same inputs that failed is deleted and created
    again (so re-running retries). Nothing is applied when the plan has no channel. The toolbox
    namespace must exist. Raises :class:`UsageError` for a missing PKI file and
    :class:`OperationError` with the API server's message (never object content).
    """
    inputs = build_inputs(plan, crypto_root, options)
    if inputs is None:
        return BootstrapResult()
    namespace = inputs.namespace
    result = BootstrapResult(job=inputs.job_name, digest=inputs.digest)

    def note(change: ObjectChange) -> None:
        result.objects.append(change)
        if on_change:
            on_change(change)

    current: dict[str, Any] | None = None
    for job in list_jobs(api_client, plan):
        name = str(job["metadata"]["name"])
        if name == inputs.job_name and job_state(job) != "failed":
            current = job
            continue
        if _delete_job(api_client, namespace, name):
            note(ObjectChange("Job", name, namespace, "deleted"))
        if name == inputs.job_name:
            _wait_gone(api_client, namespace, name)
    ensure_objects(api_client, [inputs.secret, inputs.config_map], on_change=note)
    if current is None:
        ensure_objects(api_client, [inputs.job], on_change=note)
    else:
        note(ObjectChange("Job", inputs.job_name, namespace, "unchanged"))
    return result


def bootstrap_status(api_client: Any, plan: Plan) -> BootstrapStatus:
    """The state of the network's newest bootstrap Job; ``absent`` when there is none."""
    jobs = list_jobs(api_client, plan)
    if not jobs:
        return BootstrapStatus(job=None, state="absent")
    return _status_of(jobs[-1])


def wait_bootstrap(
    api_client: Any,
    plan: Plan,
    *,
    timeout: float,
    interval: float = 5.0,
    on_progress: Callable[[BootstrapStatus], None] | None = None,
) -> BootstrapStatus:
    """Poll :func:`bootstrap_status` until the Job succeeds; return its status.

    Raises :class:`OperationError` when it failed, when there is no Job, or after ``timeout``
    seconds (the hint says how to read the Job's logs)."""
    namespace = toolbox_namespace(plan)
    deadline = time.monotonic() + timeout
    while True:
        status = bootstrap_status(api_client, plan)
        if on_progress:
            on_progress(status)
        logs = f"kubectl -n {namespace} logs job/{status.job}"
        if status.state == "succeeded":
            return status
        if status.state == "absent":
            raise OperationError(
                f"no bootstrap Job exists in {namespace}", hint="run `baas up` first"
            )
        if status.state == "failed":
            raise OperationError(
                f"the bootstrap Job {namespace}/{status.job} failed: {status.message}",
                hint=f"read its output: {logs}; re-running `baas up` retries it",
            )
        if time.monotonic() >= deadline:
            raise OperationError(
                f"the bootstrap Job {namespace}/{status.job} is still {status.state} after "
                f"{timeout:.0f}s",
                hint=f"kubectl -n {namespace} describe job {status.job}; {logs}",
            )
        time.sleep(interval)


def delete_bootstrap(
    api_client: Any, plan: Plan, *, on_change: Callable[[ObjectChange], None] | None = None
) -> list[ObjectChange]:
    """Delete every bootstrap Job of the network (with its pods), the Secret and the ConfigMap.
    Absent objects are reported ``absent``."""
    namespace = toolbox_namespace(plan)
    changes: list[ObjectChange] = []
    for job in list_jobs(api_client, plan):
        name = str(job["metadata"]["name"])
        action: Literal["deleted", "absent"] = (
            "deleted" if _delete_job(api_client, namespace, name) else "absent"
        )
        changes.append(ObjectChange("Job", name, namespace, action))
        if on_change:
            on_change(changes[-1])
    stubs = [
        {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": namespace}}
        for kind, name in (("Secret", SECRET_NAME), ("ConfigMap", CONFIG_MAP_NAME))
    ]
    changes += delete_objects(api_client, stubs, on_change=on_change)
    return changes
