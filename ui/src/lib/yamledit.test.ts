import { describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { EditError, addChaincode, addChannel, addOrganization, addPeer, lineDiff } from './yamledit';
// The examples as the repository has them (Vite's ?raw import: the file's text).
import TWO_ORGS from '../../../examples/two-orgs.yaml?raw';
import MINIMAL from '../../../examples/minimal.yaml?raw';

type Doc = { spec: { organizations: { name: string; mspId: string; peers?: { name: string; anchor?: boolean }[] }[]; channels: { name: string; organizations: string[] }[]; chaincodes?: Record<string, string>[] } };
const load = (text: string) => yaml.load(text) as Doc;

describe('addOrganization', () => {
  it('appends the entry and joins its channels, touching nothing else', () => {
    const out = addOrganization(TWO_ORGS, { name: 'org3', mspId: 'Org3MSP', peers: ['peer0', 'peer1'], channels: ['mychannel'] });
    const doc = load(out);
    expect(doc.spec.organizations.at(-1)).toEqual({ name: 'org3', mspId: 'Org3MSP', peers: [{ name: 'peer0', anchor: true }, { name: 'peer1' }] });
    expect(doc.spec.channels[0]!.organizations).toEqual(['org1', 'org2', 'org3']);
    const changed = lineDiff(TWO_ORGS, out).filter((l) => l.kind !== 'same');
    expect(changed.filter((l) => l.kind === 'del').map((l) => l.text)).toEqual(['      organizations: [org1, org2]']);
    expect(out.startsWith('# Two peer organisations')).toBe(true);
  });

  it('keeps a block list of channel members block style, and CRLF line breaks', () => {
    const text = MINIMAL.replace('organizations: [org1]', 'organizations:\n        - org1 # the founder').replace(/\n/g, '\r\n');
    const out = addOrganization(text, { name: 'org2', mspId: 'Org2MSP', peers: ['peer0'], channels: ['mychannel'] });
    expect(out).toContain('        - org1 # the founder\r\n        - org2\r\n');
    expect(out.includes('\n') && !/[^\r]\n/.test(out)).toBe(true);
    expect(load(out).spec.channels[0]!.organizations).toEqual(['org1', 'org2']);
  });

  it('follows a list written flush with its key', () => {
    const flush = 'spec:\n  organizations:\n  - name: org1\n    mspId: Org1MSP\n    peers:\n    - name: peer0\n  channels:\n  - name: ch\n    organizations: [org1]\n';
    const out = addOrganization(flush, { name: 'org2', mspId: 'Org2MSP', peers: ['peer0'], channels: [] });
    expect(out).toContain('  - name: org2\n    mspId: Org2MSP\n    peers:\n    - name: peer0\n      anchor: true\n  channels:');
  });

  it('refuses a duplicate, a bad name, an unknown channel and JSON', () => {
    expect(() => addOrganization(TWO_ORGS, { name: 'org1', mspId: 'X', peers: [], channels: [] })).toThrow(EditError);
    expect(() => addOrganization(TWO_ORGS, { name: 'Org 3', mspId: 'X', peers: [], channels: [] })).toThrow(/lower-case/);
    expect(() => addOrganization(TWO_ORGS, { name: 'org3', mspId: 'X', peers: [], channels: ['nope'] })).toThrow(/no entry named nope/);
    expect(() => addOrganization('{"spec": {}}', { name: 'org3', mspId: 'X', peers: [], channels: [] })).toThrow(/JSON/);
  });
});

describe('the other edits', () => {
  it('adds a peer to an organisation', () => {
    const out = addPeer(TWO_ORGS, 'org2', 'peer2');
    expect(load(out).spec.organizations[2]!.peers!.map((p) => p.name)).toEqual(['peer0', 'peer1', 'peer2']);
    expect(() => addPeer(TWO_ORGS, 'org2', 'peer1')).toThrow(/has a peer/);
  });

  it('adds peers to an organisation that has none', () => {
    const out = addPeer(TWO_ORGS, 'ordererorg', 'peer0');
    expect(load(out).spec.organizations[0]!.peers).toEqual([{ name: 'peer0' }]);
  });

  it('adds a channel and a chaincode (creating spec.chaincodes)', () => {
    let out = addChannel(MINIMAL, { name: 'second', organizations: ['org1'] });
    expect(load(out).spec.channels.at(-1)).toEqual({ name: 'second', organizations: ['org1'] });
    out = addChaincode(out, { name: 'basic', channel: 'second', version: '1.0', path: 'chaincode/asset-transfer' });
    expect(load(out).spec.chaincodes).toEqual([{ name: 'basic', channel: 'second', version: '1.0', path: 'chaincode/asset-transfer' }]);
    expect(out).toContain('version: "1.0"');
  });
});
