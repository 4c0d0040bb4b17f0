"""What a channel and a chaincode should be, as ensures over :mod:`baas.fabric`: configtx and
genesis blocks, orderer and peer joins, chaincode packages and lifecycle. Target-neutral: the
local and the Kubernetes runtimes both use it."""
