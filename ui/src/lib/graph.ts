// The topology graph's model, independent of the drawing library: the elements (organisations
// as groups holding their peers and orderers, channels linked to their member and orderer
// organisations, chaincodes on channels), each node's health from `…/status`, and a
// deterministic layered layout (rows of organisation groups, then channels, then chaincodes)
// that stays readable at 20 organisations and costs nothing to compute.

import type { NetworkStatus, NodeStatus } from './types';
import type { Topology } from './topology';

/** What a node's colour says. */
export type Health = 'healthy' | 'unhealthy' | 'absent' | 'unknown';

export const HEALTH_LABEL: Record<Health, string> = {
  healthy: 'healthy',
  unhealthy: 'down',
  absent: 'not deployed',
  unknown: 'unknown',
};

export type ElementKind = 'org' | 'peer' | 'orderer' | 'channel' | 'chaincode';

export interface GraphNode {
  id: string;
  kind: ElementKind;
  label: string;
  /** The organisation group holding a peer or an orderer. */
  parent?: string;
  /** Peers and orderers only. */
  health?: Health;
  position?: { x: number; y: number };
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  kind: 'member' | 'orderer' | 'chaincode';
}

export interface GraphModel {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/**
 * A node's health from its `…/status` entry: `healthy` true is healthy; a node the runtime
 * has never started (state ABSENT) is absent; any other node that does not answer healthy is
 * unhealthy, including one the supervisor is restarting (STARTING, BACKOFF) after it died: it
 * turns healthy again once it answers; no entry at all (a runtime whose status names no nodes)
 * is unknown.
 */
export function healthOf(node: NodeStatus | undefined): Health {
  if (node === undefined) return 'unknown';
  if (node.healthy === true) return 'healthy';
  const state = (node.state || '').toUpperCase();
  return state === 'ABSENT' ? 'absent' : 'unhealthy';
}

export const orgId = (org: string) => `org:${org}`;
export const nodeId = (name: string) => `node:${name}`;
export const channelId = (channel: string) => `channel:${channel}`;
export const chaincodeId = (channel: string, cc: string) => `cc:${channel}:${cc}`;

/** Layout constants, in the graph's model units. */
export const LAYOUT = {
  orgsPerRow: 8,
  orgWidth: 200,
  nodeGap: 56,
  orgPadding: 40,
  rowGap: 90,
  chaincodeGap: 70,
};

/**
 * The graph of `topology` with health from `status` (null while it has not been read).
 * Nodes the status names but the topology does not (never, for a stored network) are added
 * to their organisation. Every node has a position (see {@link LAYOUT}).
 */
export function buildGraph(topology: Topology, status: NetworkStatus | null): GraphModel {
  const byName = new Map((status?.nodes ?? []).map((n) => [n.name, n]));
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const { orgsPerRow, orgWidth, nodeGap, orgPadding, rowGap, chaincodeGap } = LAYOUT;
  const orgs = topology.organizations.map((org) => {
    const members = [...org.nodes];
    for (const extra of status?.nodes ?? []) {
      if (extra.org === org.name && !members.some((m) => m.name === extra.name)) {
        members.push({ name: extra.name, role: extra.role === 'orderer' ? 'orderer' : 'peer', org: org.name });
      }
    }
    return { org, members };
  });
  let rowTop = 0;
  for (let start = 0; start < orgs.length; start += orgsPerRow) {
    const row = orgs.slice(start, start + orgsPerRow);
    const tallest = Math.max(1, ...row.map((r) => r.members.length));
    row.forEach(({ org, members }, column) => {
      const x = column * orgWidth;
      nodes.push({ id: orgId(org.name), kind: 'org', label: `${org.name} (${org.mspId})` });
      members.forEach((member, index) => {
        nodes.push({
          id: nodeId(member.name),
          kind: member.role,
          label: member.name.split('.')[0] ?? member.name,
          parent: orgId(org.name),
          health: status ? healthOf(byName.get(member.name)) : 'unknown',
          position: { x, y: rowTop + index * nodeGap },
        });
      });
    });
    rowTop += (tallest - 1) * nodeGap + orgPadding * 2 + rowGap;
  }
  const known = new Set(topology.organizations.map((o) => o.name));
  const channelsTop = rowTop;
  const width = Math.min(orgs.length, orgsPerRow) * orgWidth;
  const channelCount = topology.channels.length;
  topology.channels.forEach((channel, index) => {
    const x = channelCount > 1 ? (index * (width - orgWidth)) / (channelCount - 1) : (width - orgWidth) / 2;
    const id = channelId(channel.name);
    nodes.push({ id, kind: 'channel', label: channel.name, position: { x, y: channelsTop } });
    for (const org of channel.organizations.filter((o) => known.has(o))) {
      edges.push({ id: `${id}->${orgId(org)}`, source: orgId(org), target: id, kind: 'member' });
    }
    for (const org of channel.orderers.filter((o) => known.has(o) && !channel.organizations.includes(o))) {
      edges.push({ id: `${id}->${orgId(org)}:orderer`, source: orgId(org), target: id, kind: 'orderer' });
    }
    topology.chaincodes
      .filter((cc) => cc.channel === channel.name)
      .forEach((cc, ccIndex) => {
        const ccNode = chaincodeId(channel.name, cc.name);
        nodes.push({
          id: ccNode,
          kind: 'chaincode',
          label: `${cc.name} ${cc.version}`,
          position: { x, y: channelsTop + chaincodeGap * (ccIndex + 1) },
        });
        edges.push({ id: `${ccNode}->${id}`, source: id, target: ccNode, kind: 'chaincode' });
      });
  });
  return { nodes, edges };
}

/** How many of the graph's peers and orderers have each health. */
export function healthCounts(model: GraphModel): Record<Health, number> {
  const counts: Record<Health, number> = { healthy: 0, unhealthy: 0, absent: 0, unknown: 0 };
  for (const node of model.nodes) {
    if (node.health) counts[node.health] += 1;
  }
  return counts;
}
