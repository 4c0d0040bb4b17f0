import { describe, expect, it } from 'vitest';
import { buildGraph, healthCounts, healthOf } from './graph';
import { fromDocument } from './topology';
import type { NetworkStatus } from './types';

const TWO_ORGS = {
  metadata: { name: 'supplychain' },
  spec: {
    domain: 'example.com',
    organizations: [
      { name: 'ordererorg', mspId: 'OrdererMSP', orderers: [{ name: 'orderer0' }, { name: 'orderer1' }, { name: 'orderer2' }] },
      { name: 'org1', mspId: 'Org1MSP', peers: [{ name: 'peer0' }, { name: 'peer1' }] },
      { name: 'org2', mspId: 'Org2MSP', peers: [{ name: 'peer0' }, { name: 'peer1' }] },
    ],
    channels: [{ name: 'mychannel', organizations: ['org1', 'org2'] }],
    chaincodes: [{ name: 'basic', channel: 'mychannel', version: '1.0', path: 'x' }],
  },
};

function node(name: string, healthy: boolean | null, state = 'RUNNING') {
  return { name, role: name.startsWith('orderer') ? 'orderer' : 'peer', org: name.split('.')[1] ?? '', pid: 1, state, ports: {}, healthy };
}

describe('fromDocument', () => {
  it('reads names, defaults and the default orderer organisations', () => {
    const topology = fromDocument(TWO_ORGS);
    expect(topology.fabricVersion).toBe('2.5');
    expect(topology.consensus).toBe('etcdraft');
    expect(topology.organizations.map((o) => o.nodes.length)).toEqual([3, 2, 2]);
    expect(topology.organizations[1]?.nodes[0]?.name).toBe('peer0.org1.example.com');
    expect(topology.channels[0]?.orderers).toEqual(['ordererorg']);
  });
});

describe('buildGraph', () => {
  it('groups nodes in their organisations and links channels and chaincodes', () => {
    const model = buildGraph(fromDocument(TWO_ORGS), null);
    const kinds = model.nodes.map((n) => n.kind);
    expect(kinds.filter((k) => k === 'org')).toHaveLength(3);
    expect(kinds.filter((k) => k === 'peer' || k === 'orderer')).toHaveLength(7);
    expect(model.nodes.find((n) => n.id === 'node:peer1.org2.example.com')?.parent).toBe('org:org2');
    expect(model.edges.map((e) => e.id).sort()).toEqual([
      'cc:mychannel:basic->channel:mychannel',
      'channel:mychannel->org:ordererorg:orderer',
      'channel:mychannel->org:org1',
      'channel:mychannel->org:org2',
    ]);
    expect(model.nodes.filter((n) => n.kind !== 'org').every((n) => n.position)).toBe(true);
    expect(healthCounts(model).unknown).toBe(7);
  });

  it('colours each node by its status', () => {
    const status: NetworkStatus = {
      kind: 'Status',
      network: 'supplychain',
      target: 'local',
      nodes: [node('peer0.org1.example.com', true), node('peer1.org1.example.com', false, 'EXITED'), node('peer0.org2.example.com', null, 'ABSENT')],
    };
    const model = buildGraph(fromDocument(TWO_ORGS), status);
    const health = Object.fromEntries(model.nodes.filter((n) => n.health).map((n) => [n.id, n.health]));
    expect(health['node:peer0.org1.example.com']).toBe('healthy');
    expect(health['node:peer1.org1.example.com']).toBe('unhealthy');
    expect(health['node:peer0.org2.example.com']).toBe('absent');
    expect(health['node:orderer0.ordererorg.example.com']).toBe('unknown');
  });

  it('lays out 20 organisations in rows without overlapping nodes', () => {
    const organizations = Array.from({ length: 20 }, (_, i) => ({
      name: `org${i}`,
      mspId: `Org${i}MSP`,
      peers: [{ name: 'peer0' }, { name: 'peer1' }, { name: 'peer2' }],
    }));
    const model = buildGraph(fromDocument({ spec: { domain: 'x.org', organizations } }), null);
    const spots = model.nodes.filter((n) => n.position).map((n) => `${n.position?.x},${n.position?.y}`);
    expect(spots).toHaveLength(60);
    expect(new Set(spots).size).toBe(60);
  });
});

describe('healthOf', () => {
  it('counts a node being restarted as unhealthy until it answers', () => {
    expect(healthOf(node('p', null, 'BACKOFF'))).toBe('unhealthy');
    expect(healthOf(node('p', false, 'STARTING'))).toBe('unhealthy');
    expect(healthOf(node('p', false, 'FATAL'))).toBe('unhealthy');
    expect(healthOf(undefined)).toBe('unknown');
  });
});
