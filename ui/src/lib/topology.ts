// What the console draws of a network, read from its topology text (YAML or JSON, as the API
// stores it): organisations with their nodes' full names, channels with their member and
// orderer organisations, chaincodes by channel, the Fabric line and the consensus.

export interface TopologyNode {
  /** The full node name (`peer0.org1.example.com`), as `…/status` names it. */
  name: string;
  role: 'peer' | 'orderer';
  org: string;
}

export interface TopologyOrg {
  name: string;
  mspId: string;
  nodes: TopologyNode[];
}

export interface TopologyChannel {
  name: string;
  /** Member (peer) organisations. */
  organizations: string[];
  /** Orderer organisations (the topology's default: every organisation running orderers). */
  orderers: string[];
}

export interface TopologyChaincode {
  name: string;
  channel: string;
  version: string;
}

export interface Topology {
  name: string;
  fabricVersion: string;
  consensus: string;
  domain: string;
  organizations: TopologyOrg[];
  channels: TopologyChannel[];
  chaincodes: TopologyChaincode[];
}

type Json = Record<string, unknown>;

function object(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function text(value: unknown, fallback: string): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : fallback;
}

function names(value: unknown): string[] {
  return list(value).filter((v): v is string => typeof v === 'string');
}

/**
 * The topology of a parsed document (the object of `baas/v1alpha1` Network). The API only
 * stores topologies that validate, so this reads without checking; a missing field gets the
 * format's default (Fabric "2.5", consensus "etcdraft", no channels, no chaincodes).
 */
export function fromDocument(document: unknown): Topology {
  const root = object(document);
  const spec = object(root['spec']);
  const domain = text(spec['domain'], '');
  const organizations: TopologyOrg[] = list(spec['organizations']).map((raw) => {
    const org = object(raw);
    const name = text(org['name'], '?');
    const node = (role: 'peer' | 'orderer') => (n: unknown) => ({
      name: [text(object(n)['name'], '?'), name, domain].filter(Boolean).join('.'),
      role,
      org: name,
    });
    return {
      name,
      mspId: text(org['mspId'], ''),
      nodes: [...list(org['orderers']).map(node('orderer')), ...list(org['peers']).map(node('peer'))],
    };
  });
  const ordererOrgs = organizations
    .filter((o) => o.nodes.some((n) => n.role === 'orderer'))
    .map((o) => o.name);
  const channels = list(spec['channels']).map((raw) => {
    const channel = object(raw);
    const orderers = channel['orderers'];
    return {
      name: text(channel['name'], '?'),
      organizations: names(channel['organizations']),
      orderers: Array.isArray(orderers) ? names(orderers) : ordererOrgs,
    };
  });
  const chaincodes = list(spec['chaincodes']).map((raw) => {
    const cc = object(raw);
    return {
      name: text(cc['name'], '?'),
      channel: text(cc['channel'], '?'),
      version: text(cc['version'], '1.0'),
    };
  });
  return {
    name: text(object(root['metadata'])['name'], '?'),
    fabricVersion: text(object(spec['fabric'])['version'], '2.5'),
    consensus: text(spec['consensus'], 'etcdraft'),
    domain,
    organizations,
    channels,
    chaincodes,
  };
}

/**
 * The topology of `source`, the text the API stored with `mediaType`. JSON is parsed
 * natively; YAML with js-yaml, loaded only when a YAML topology is first read (so screens
 * that never read one do not download it). Throws on text that does not parse.
 */
export async function parseTopology(source: string, mediaType: string): Promise<Topology> {
  if (mediaType.includes('json')) {
    return fromDocument(JSON.parse(source));
  }
  const yaml = await import('js-yaml');
  return fromDocument(yaml.load(source));
}
