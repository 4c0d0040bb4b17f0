"""The admin route's port-forwarder, offline: how a refused forward is reported. (Forwarding
itself runs in tests/cluster, against pods that really listen.)"""

from __future__ import annotations

from baas.runtimes.kubernetes.portforward import _reason


class _ApiException(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.status = 0
        self.reason = reason


# what kubernetes' portforward raises for a missing pod (ApiException.reason, as seen here)
HANDSHAKE_404 = (
    "Handshake status 404 Not Found -+-+- {'audit-id': 'b5cbd33a', 'cache-control': "
    "'no-cache, private', 'content-type': 'application/json', 'content-length': '180'} -+-+- "
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods '
    '\\"peer0-0\\" not found","reason":"NotFound","details":{"name":"peer0-0","kind":"pods"},'
    '"code":404}\n'
)


def test_a_refused_forward_gives_the_api_servers_message_not_its_headers() -> None:
    reason = _reason(_ApiException(HANDSHAKE_404))
    assert reason == 'HTTP 404: pods "peer0-0" not found'
    assert "audit-id" not in reason


def test_a_bare_handshake_status_and_other_errors_stay_short() -> None:
    assert _reason(_ApiException("Handshake status 403 Forbidden")) == "HTTP 403 Forbidden"
    assert _reason(ConnectionRefusedError("[Errno 111] Connection refused")) == (
        "[Errno 111] Connection refused"
    )
