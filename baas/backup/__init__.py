"""Backup and restore of a whole network (issue 21), split by concern:

* :mod:`baas.backup.encryption` — scrypt + AES-GCM for every private key in a backup;
* :mod:`baas.backup.manifest` — the signed, self-describing manifest (versions, heights, the
  SHA-256 of every file) and its verification;
* :mod:`baas.backup.snapshots` — peers' ledger snapshots at one agreed height;
* :mod:`baas.backup.orderers` — consistent copies of orderer ledgers, one orderer at a time;
* :mod:`baas.backup.create` — a backup folder of a local network;
* :mod:`baas.backup.restore` — verifying a backup and writing a network's ``$BAAS_HOME`` tree.

Target-neutral pieces (encryption, manifest) know nothing of runtimes; the local runtime's
specifics (data folders, the supervisor) stay in :mod:`baas.backup.create` and
:mod:`baas.backup.restore`, so a Kubernetes variant can reuse the rest.
"""
