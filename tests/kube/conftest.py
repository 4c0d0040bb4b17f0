"""Fixtures for the `kube` suite: a real etcd + kube-apiserver, and the cached helm binary."""

import sys
from pathlib import Path

# `tests.support` must be importable whichever way pytest is started; harmless once the
# project sets `pythonpath = ["."]` for pytest.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.support.kubeapi import helm_binary, kube_binaries, kube_cluster  # noqa: E402

__all__ = ["helm_binary", "kube_binaries", "kube_cluster"]
