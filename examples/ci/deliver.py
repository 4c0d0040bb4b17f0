#!/usr/bin/env python3
"""Deliver a chaincode folder to a baas server from CI: the step both example pipelines
(github-actions.yml, gitlab-ci.yml) run. Python's standard library only, so a runner needs
nothing installed.

    BAAS_URL=https://baas.example.com BAAS_TOKEN=... \\
        python3 examples/ci/deliver.py --network supplychain --chaincode basic \\
            --path examples/chaincode/asset-transfer --version 1.0.42

1. packs ``--path`` as a .tar.gz (its top level is the chaincode folder; node_modules, .git
   and other build output are left out: the server installs and builds them);
2. uploads it (``POST /api/v1/networks/NET/chaincode-sources``), which returns its digest;
3. starts the delivery (``POST /api/v1/networks/NET/chaincodes/CC/deliveries``);
4. follows the job's events (``GET /api/v1/deployments/ID/events``), printing each step;
5. exits 0 once the new definition is committed (printing its version and sequence), or 1
   with the server's message and hint (2 for a wrong invocation).

``BAAS_TOKEN`` is a ``chaincode-deployer`` token (``baas token create --role
chaincode-deployer``) kept in the CI's secret store; it is sent only in the Authorization
header and never printed. ``BAAS_CA_FILE`` names a PEM CA bundle for a server whose
certificate the system's CAs do not verify.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import ssl
import sys
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

LEFT_OUT = frozenset({"node_modules", ".git", "target", "build", "dist", ".gradle", ".npm"})
"""Folders never packed (dependencies and build output: the server makes its own)."""
FINAL = frozenset({"succeeded", "failed", "cancelled", "interrupted"})


class Failed(Exception):
    """What the server (or the network) said went wrong: ``message`` and ``hint``."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


def pack(folder: Path) -> bytes:
    """``folder`` as a .tar.gz of regular files and folders (``./…`` names, sorted, owner and
    times cleared so that the same files give the same bytes, and so the same digest)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder)
            if LEFT_OUT.intersection(relative.parts) or path.is_symlink():
                continue
            if not (path.is_file() or path.is_dir()):
                continue
            info = tar.gettarinfo(str(path), arcname=f"./{relative.as_posix()}")
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            if path.is_file():
                with path.open("rb") as data:
                    tar.addfile(info, data)
            else:
                tar.addfile(info)
    return gzip.compress(out.getvalue(), mtime=0)


class Client:
    """Calls to one baas server with one token."""

    def __init__(self, url: str, token: str, *, ca_file: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.context = ssl.create_default_context(cafile=ca_file)

    def _request(self, method: str, path: str, body: bytes | None, media: str | None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if media:
            headers["Content-Type"] = media
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        return urllib.request.urlopen(request, timeout=60, context=self.context)

    def call(
        self, method: str, path: str, body: bytes | None = None, media: str | None = None
    ) -> Any:
        """The JSON answer of one call; :class:`Failed` with the server's problem."""
        try:
            with self._request(method, path, body, media) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise _problem(exc) from None
        except (urllib.error.URLError, OSError) as exc:
            raise Failed(
                f"cannot reach {self.url}: {getattr(exc, 'reason', exc)}",
                "check BAAS_URL (and BAAS_CA_FILE for a private CA)",
            ) from None

    def events(self, job: str) -> Any:
        """The job's events (``kind``, ``data``) as the server streams them, resuming after a
        dropped connection from the last event seen."""
        last = 0
        while True:
            headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
            if last:
                headers["Last-Event-ID"] = str(last)
            request = urllib.request.Request(
                f"{self.url}/api/v1/deployments/{job}/events", headers=headers
            )
            try:
                with urllib.request.urlopen(request, timeout=120, context=self.context) as stream:
                    frame: dict[str, str] = {}
                    for raw in stream:
                        line = raw.decode("utf-8").rstrip("\r\n")
                        if line == "":
                            if "data" in frame:
                                last = int(frame.get("id", last))
                                event = json.loads(frame["data"])
                                yield event
                                if event["kind"] == "state" and event["data"]["state"] in FINAL:
                                    return
                            frame = {}
                        elif not line.startswith(":"):
                            key, _, value = line.partition(":")
                            frame[key] = value[1:] if value.startswith(" ") else value
            except urllib.error.HTTPError as exc:
                raise _problem(exc) from None
            except (urllib.error.URLError, OSError) as exc:
                print(f"event stream dropped ({exc}); resuming", file=sys.stderr)
                time.sleep(2)


def _problem(exc: urllib.error.HTTPError) -> Failed:
    try:
        body = json.loads(exc.read())
    except ValueError:
        body = {}
    message = body.get("message") or f"HTTP {exc.code} {exc.reason}"
    hint = body.get("hint") or ""
    for diagnostic in body.get("diagnostics") or []:
        message += f"\n  {diagnostic.get('path', '')}: {diagnostic.get('message', '')}"
    return Failed(f"{message} (HTTP {exc.code})", hint)


def deliver(args: argparse.Namespace, client: Client) -> dict[str, Any]:
    """Upload, deliver, follow: the job's result once it succeeded; :class:`Failed` else."""
    network = urllib.parse.quote(args.network, safe="")
    chaincode = urllib.parse.quote(args.chaincode, safe="")
    archive = pack(args.path)
    print(f"packed {args.path} ({len(archive)} bytes)")
    uploaded = client.call(
        "POST", f"/api/v1/networks/{network}/chaincode-sources", archive, "application/gzip"
    )
    digest = uploaded["digest"]
    print(f"uploaded {digest} ({'new' if uploaded['created'] else 'known already'})")
    body: dict[str, Any] = {"version": args.version, "source": digest}
    for key, value in (
        ("channel", args.channel),
        ("endorsement", args.endorsement),
        ("initRequired", args.init_required),
    ):
        if value is not None:
            body[key] = value
    job = client.call(
        "POST",
        f"/api/v1/networks/{network}/chaincodes/{chaincode}/deliveries",
        json.dumps(body).encode(),
        "application/json",
    )
    print(f"delivery {job['id']} started")
    for event in client.events(job["id"]):
        data = event["data"]
        if event["kind"] == "progress":
            print(f"  {data['message']}")
            continue
        state = data["state"]
        if state not in FINAL:
            continue
        if state != "succeeded":
            error = data.get("error") or {}
            raise Failed(
                f"delivery {job['id']} {state}: {error.get('message', 'no reason given')}",
                error.get("hint", ""),
            )
        return dict(data.get("result") or {})
    raise Failed(f"the event stream of {job['id']} ended before the job did")


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--network", required=True, help="the network's name on the server")
    parser.add_argument("--chaincode", required=True, help="the chaincode's name")
    parser.add_argument("--path", required=True, type=Path, help="the chaincode's folder")
    parser.add_argument("--version", required=True, help="the version to deliver")
    parser.add_argument("--channel", help="its channel (when on several, or new)")
    parser.add_argument("--endorsement", help="its endorsement policy")
    parser.add_argument(
        "--init-required", action=argparse.BooleanOptionalAction, default=None, help="call Init"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(sys.argv[1:] if argv is None else argv)
    url, token = os.environ.get("BAAS_URL", ""), os.environ.get("BAAS_TOKEN", "")
    if not url or not token:
        print("deliver: set BAAS_URL and BAAS_TOKEN (from the CI's secret store)", file=sys.stderr)
        return 2
    if not args.path.is_dir():
        print(f"deliver: {args.path} is not a folder", file=sys.stderr)
        return 2
    client = Client(url, token, ca_file=os.environ.get("BAAS_CA_FILE") or None)
    started = time.monotonic()
    try:
        result = deliver(args, client)
    except Failed as failed:
        print(f"deliver: {failed.message}", file=sys.stderr)
        if failed.hint:
            print(f"  hint: {failed.hint}", file=sys.stderr)
        return 1
    committed = result.get("committed") or {}
    verb = "delivered" if result.get("changed") else "already delivered"
    print(
        f"{verb} {args.chaincode} {committed.get('version')} "
        f"(sequence {committed.get('sequence')}) in {time.monotonic() - started:.1f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
