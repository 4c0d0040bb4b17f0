"""Topologies shared by several test modules."""

# Two peer organisations that share no channel: their peers must not reach each other.
ISLANDS = """
apiVersion: baas/v1alpha1
kind: Network
metadata: {name: islands}
spec:
  domain: example.com
  organizations:
    - {name: ord1, mspId: Ord1MSP, orderers: [{name: orderer0}]}
    - {name: ord2, mspId: Ord2MSP, orderers: [{name: orderer0}]}
    - {name: a, mspId: AMSP, peers: [{name: peer0}]}
    - {name: b, mspId: BMSP, peers: [{name: peer0}]}
  channels:
    - {name: cha, organizations: [a], orderers: [ord1]}
    - {name: chb, organizations: [b], orderers: [ord1, ord2]}
"""
