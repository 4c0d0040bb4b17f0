"""Channels and chaincode: what the toolbox needs to create channels and deploy chaincode.

Pure builders over the :class:`baas.plan.Plan`; nothing here touches a cluster or the disk.

* :mod:`baas.channels.layout` — where the toolbox pod finds each file (crypto tree, inputs).
* :mod:`baas.channels.configtx` — ``configtx.yaml`` (one profile per channel) for configtxgen.
* :mod:`baas.channels.packaging` — chaincode-as-a-service packages and their package IDs.
"""
