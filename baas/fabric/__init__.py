"""How baas talks to Fabric: its binaries, and a Python admin client over Fabric's gRPC and
REST APIs (identities and signing, proposals, peer administration, chaincode lifecycle,
channel participation, block delivery, config decoding). Nothing outside this package builds a
Fabric protobuf."""
