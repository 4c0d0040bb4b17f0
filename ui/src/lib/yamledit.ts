// The console's common edits of a topology's YAML text, made in place (as topology/editing.py
// edits chaincode entries for `baas chaincode deliver`): a new entry is inserted after the
// last line of its list, indented as that list's entries are, and a name is added to a
// channel's `organizations` list in the list's own style (flow `[a, b]` or block `- a`).
// Every other byte stays as it was: comments, key order, blank lines, quoting, line breaks.
// The text is never re-serialised, so nothing is lost.
//
// Only block-style YAML is edited (what `baas init` and the examples write); a topology
// whose lists are written in flow style or as JSON is refused with an EditError saying so
// (edit the text by hand). The caller validates the result (POST /networks/validate).

export class EditError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EditError';
  }
}

export interface NewOrganization {
  name: string;
  mspId: string;
  /** Peer names (`peer0`, …); the first is the organisation's anchor peer. */
  peers: string[];
  /** Channels the organisation joins (added to each one's `organizations`). */
  channels: string[];
}

export interface NewChannel {
  name: string;
  organizations: string[];
}

export interface NewChaincode {
  name: string;
  channel: string;
  version: string;
  path: string;
}

type Scalar = string | boolean;
type Value = Scalar | Scalar[] | Entry[];
interface Entry {
  [key: string]: Value;
}

interface Doc {
  lines: string[];
  newline: string;
  /** The text had no line break after its last line. */
  unterminated: boolean;
}

function read(text: string): Doc {
  const newline = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(/\r?\n/);
  const unterminated = lines.length > 0 && lines[lines.length - 1] !== '';
  if (!unterminated) lines.pop();
  return { lines, newline, unterminated };
}

function write(doc: Doc): string {
  return doc.lines.join(doc.newline) + (doc.unterminated ? '' : doc.newline);
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

function blank(line: string): boolean {
  const content = line.trim();
  return content === '' || content.startsWith('#') || content === '---';
}

function keyPattern(key: string): RegExp {
  return new RegExp(`^${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*:(\\s|$)`);
}

/** The value after `key:` on its line, without a trailing comment ('' when on later lines). */
function inlineValue(line: string): string {
  const after = line.slice(line.indexOf(':') + 1);
  return after.replace(/\s+#.*$/, '').trim();
}

function unquote(value: string): string {
  const v = value.replace(/\s+#.*$/, '').trim();
  if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) {
    return v.slice(1, -1);
  }
  return v;
}

/** A key's line: the key at `indent` between lines `from` and `to` (or -1). */
function findKey(doc: Doc, from: number, to: number, indent: number, key: string): number {
  const pattern = keyPattern(key);
  for (let i = from; i < to; i += 1) {
    const line = doc.lines[i] ?? '';
    if (!blank(line) && indentOf(line) === indent && pattern.test(line.trimStart())) return i;
  }
  return -1;
}

/**
 * The end (exclusive, after its last non-blank line) of the value block of the key on line
 * `at` at `indent`: lines indented deeper, or at the same indentation starting with `- `
 * (a list written flush with its key).
 */
function blockEnd(doc: Doc, at: number, indent: number, limit = doc.lines.length): number {
  let last = at;
  for (let i = at + 1; i < limit; i += 1) {
    const line = doc.lines[i] ?? '';
    if (blank(line)) continue;
    const own = indentOf(line);
    if (own < indent || (own === indent && !line.trimStart().startsWith('-'))) break;
    last = i;
  }
  return last + 1;
}

interface Item {
  start: number;
  end: number;
  /** The column of the item's `-`. */
  dash: number;
  /** The column of the item's keys (after `- `). */
  keys: number;
}

/** The items of the block list that is the value of the key on line `at`. */
function items(doc: Doc, at: number, end: number): Item[] {
  const found: Item[] = [];
  let dash = -1;
  for (let i = at + 1; i < end; i += 1) {
    const line = doc.lines[i] ?? '';
    if (blank(line)) continue;
    const content = line.trimStart();
    if (dash === -1) {
      if (!content.startsWith('-')) return [];
      dash = indentOf(line);
    }
    if (indentOf(line) === dash && content.startsWith('-')) {
      const afterDash = content.slice(1);
      const keys = dash + 1 + (afterDash.length - afterDash.trimStart().length);
      if (found.length > 0) found[found.length - 1]!.end = i;
      found.push({ start: i, end, dash, keys });
    }
  }
  for (const item of found) item.end = lastContent(doc, item.start, item.end);
  return found;
}

function lastContent(doc: Doc, from: number, to: number): number {
  let last = from;
  for (let i = from; i < to; i += 1) if (!blank(doc.lines[i] ?? '')) last = i;
  return last + 1;
}

/** The `name:` of a list item (on its dash line or one of its own keys). */
function itemName(doc: Doc, item: Item): string | null {
  const first = (doc.lines[item.start] ?? '').trimStart().slice(1).trimStart();
  if (keyPattern('name').test(first)) return unquote(inlineValue(first));
  const at = findKey(doc, item.start + 1, item.end, item.keys, 'name');
  return at === -1 ? null : unquote(inlineValue(doc.lines[at] ?? ''));
}

const RESERVED = /^(true|false|yes|no|on|off|null|y|n|~)$/i;

/** A scalar as YAML: plain when it reads back as the same string, double-quoted otherwise. */
export function scalar(value: Scalar): string {
  if (typeof value === 'boolean') return String(value);
  if (/^[A-Za-z_][A-Za-z0-9_.\-/]*$/.test(value) && !RESERVED.test(value)) return value;
  return JSON.stringify(value);
}

/** An entry's lines: `- key: value` then its keys at `dash + 2`; nested lists `sub` deeper. */
function render(entry: Entry, dash: number, sub: number): string[] {
  const out: string[] = [];
  const keys = dash + 2;
  Object.entries(entry).forEach(([key, value], index) => {
    const lead = index === 0 ? `${' '.repeat(dash)}- ` : ' '.repeat(keys);
    if (Array.isArray(value) && value.length > 0 && typeof value[0] === 'object') {
      out.push(`${lead}${key}:`);
      for (const child of value as Entry[]) out.push(...render(child, keys + sub, sub));
    } else if (Array.isArray(value)) {
      out.push(`${lead}${key}: [${(value as Scalar[]).map(scalar).join(', ')}]`);
    } else {
      out.push(`${lead}${key}: ${scalar(value)}`);
    }
  });
  return out;
}

interface Spec {
  at: number;
  end: number;
  /** The indentation of spec's keys. */
  keys: number;
}

function spec(doc: Doc): Spec {
  const trimmed = doc.lines.find((l) => !blank(l))?.trimStart() ?? '';
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    throw new EditError('this topology is written as JSON (or YAML flow style): edit its text by hand');
  }
  const at = findKey(doc, 0, doc.lines.length, 0, 'spec');
  if (at === -1) throw new EditError('the topology has no top-level spec: key');
  if (inlineValue(doc.lines[at] ?? '') !== '') {
    throw new EditError('spec is written in flow style ({…}): edit its text by hand');
  }
  const end = blockEnd(doc, at, 0);
  const next = doc.lines.slice(at + 1, end).find((l) => !blank(l));
  return { at, end, keys: next === undefined ? 2 : indentOf(next) };
}

interface List {
  at: number;
  end: number;
  items: Item[];
  /** Where the list's items put their `-`, and the nested lists' offset from their key. */
  dash: number;
  sub: number;
}

/** The block list under `key` of the mapping whose keys are at `indent` in [from, to). */
function list(doc: Doc, from: number, to: number, indent: number, key: string, what: string): List | null {
  const at = findKey(doc, from, to, indent, key);
  if (at === -1) return null;
  const value = inlineValue(doc.lines[at] ?? '');
  if (value !== '' && value !== '[]' && value !== 'null' && value !== '~') {
    throw new EditError(`${what} is written in flow style ([…]): edit its text by hand`);
  }
  if (value !== '') {
    // `key: []` or `key: null`: an empty list, made a block list by the insertion
    doc.lines[at] = (doc.lines[at] ?? '').replace(/:\s*(\[\]|null|~)/, ':');
  }
  const end = blockEnd(doc, at, indent, to);
  const found = items(doc, at, end);
  const dash = found[0]?.dash ?? indent + 2;
  return { at, end: found.length ? found[found.length - 1]!.end : at + 1, items: found, dash, sub: dash - indent };
}

/** The file's offset of nested lists from their key (2 when written `key:\n  - …`). */
function fileSub(doc: Doc, s: Spec): number {
  const orgs = list(doc, s.at + 1, s.end, s.keys, 'organizations', 'spec.organizations');
  return orgs?.sub ?? 2;
}

/** Append `entry` to `spec.<key>`, creating the key (after spec's last line) when absent. */
function append(doc: Doc, key: string, entry: Entry): void {
  const s = spec(doc);
  const sub = fileSub(doc, s);
  const found = list(doc, s.at + 1, s.end, s.keys, key, `spec.${key}`);
  if (found === null) {
    const at = lastContent(doc, s.at, s.end);
    doc.lines.splice(at, 0, `${' '.repeat(s.keys)}${key}:`, ...render(entry, s.keys + sub, sub));
    return;
  }
  doc.lines.splice(found.end, 0, ...render(entry, found.dash, found.sub));
}

function named(doc: Doc, key: string, name: string): { list: List; item: Item } {
  const s = spec(doc);
  const found = list(doc, s.at + 1, s.end, s.keys, key, `spec.${key}`);
  const item = found?.items.find((i) => itemName(doc, i) === name);
  if (!found || !item) throw new EditError(`spec.${key} has no entry named ${name}`);
  return { list: found, item };
}

function existing(doc: Doc, key: string): string[] {
  const s = spec(doc);
  const found = list(doc, s.at + 1, s.end, s.keys, key, `spec.${key}`);
  return (found?.items ?? []).map((i) => itemName(doc, i)).filter((n): n is string => n !== null);
}

/** Add `value` to the scalar list under `key` of `item` (flow `[a]` or block), or create it. */
function addToScalarList(doc: Doc, item: Item, key: string, value: string, sub: number): void {
  const first = (doc.lines[item.start] ?? '').trimStart().slice(1).trimStart();
  let at = keyPattern(key).test(first) ? item.start : findKey(doc, item.start + 1, item.end, item.keys, key);
  if (at === -1) {
    doc.lines.splice(item.end, 0, `${' '.repeat(item.keys)}${key}: [${scalar(value)}]`);
    return;
  }
  const line = doc.lines[at] ?? '';
  const inline = inlineValue(line);
  if (inline.startsWith('[')) {
    const close = line.lastIndexOf(']');
    if (close === -1) throw new EditError(`${key} spans several lines in flow style: edit its text by hand`);
    const inside = line.slice(line.indexOf('[') + 1, close).trim();
    doc.lines[at] = `${line.slice(0, close).replace(/\s*$/, '')}${inside ? ', ' : ''}${scalar(value)}${line.slice(close)}`;
    return;
  }
  if (inline !== '') throw new EditError(`${key} is not a list: edit its text by hand`);
  const keyIndent = at === item.start ? item.keys : indentOf(line);
  const end = blockEnd(doc, at, keyIndent, item.end);
  const entries = items(doc, at, end);
  const dash = entries[0]?.dash ?? keyIndent + sub;
  at = entries.length ? entries[entries.length - 1]!.end : at + 1;
  doc.lines.splice(at, 0, `${' '.repeat(dash)}- ${scalar(value)}`);
}

function check(name: string, what: string): void {
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name)) {
    throw new EditError(`${what} ${JSON.stringify(name)}: use lower-case letters, digits and '-'`);
  }
}

/** Add an organisation with its peers (the first the anchor) and join it to `channels`. */
export function addOrganization(text: string, org: NewOrganization): string {
  const doc = read(text);
  check(org.name, 'organisation name');
  org.peers.forEach((p) => check(p, 'peer name'));
  if (existing(doc, 'organizations').includes(org.name)) {
    throw new EditError(`an organisation named ${org.name} exists`);
  }
  const entry: Entry = { name: org.name, mspId: org.mspId };
  if (org.peers.length) {
    entry['peers'] = org.peers.map((name, i): Entry => (i === 0 ? { name, anchor: true } : { name }));
  }
  append(doc, 'organizations', entry);
  const sub = fileSub(doc, spec(doc));
  for (const channel of org.channels) {
    const { item } = named(doc, 'channels', channel);
    addToScalarList(doc, item, 'organizations', org.name, sub);
  }
  return write(doc);
}

/** Add a peer to an organisation's `peers`. */
export function addPeer(text: string, orgName: string, peer: string): string {
  const doc = read(text);
  check(peer, 'peer name');
  const { item, list: orgs } = named(doc, 'organizations', orgName);
  const peers = list(doc, item.start + 1, item.end, item.keys, 'peers', `${orgName}'s peers`);
  if (peers?.items.some((p) => itemName(doc, p) === peer)) {
    throw new EditError(`${orgName} has a peer named ${peer}`);
  }
  if (peers === null) {
    doc.lines.splice(item.end, 0, `${' '.repeat(item.keys)}peers:`, ...render({ name: peer }, item.keys + orgs.sub, orgs.sub));
  } else {
    doc.lines.splice(peers.end, 0, ...render({ name: peer }, peers.dash, peers.sub));
  }
  return write(doc);
}

/** Add a channel with its member organisations. */
export function addChannel(text: string, channel: NewChannel): string {
  const doc = read(text);
  check(channel.name, 'channel name');
  if (existing(doc, 'channels').includes(channel.name)) {
    throw new EditError(`a channel named ${channel.name} exists`);
  }
  append(doc, 'channels', { name: channel.name, organizations: channel.organizations });
  return write(doc);
}

/** Add a chaincode on a channel (`version` is written quoted when it reads as a number). */
export function addChaincode(text: string, chaincode: NewChaincode): string {
  const doc = read(text);
  check(chaincode.name, 'chaincode name');
  if (!chaincode.path.trim()) throw new EditError('a chaincode needs the path of its source');
  append(doc, 'chaincodes', {
    name: chaincode.name,
    channel: chaincode.channel,
    version: chaincode.version,
    path: chaincode.path,
  });
  return write(doc);
}

export interface DiffLine {
  kind: 'same' | 'add' | 'del';
  text: string;
  /** The line's number in the new text (added and unchanged) or the old one (removed). */
  line: number;
}

/** The lines an edit added and removed (a longest-common-subsequence line diff). */
export function lineDiff(before: string, after: string): DiffLine[] {
  const a = read(before).lines;
  const b = read(after).lines;
  const rows = a.length + 1;
  const cols = b.length + 1;
  const common = new Uint32Array(rows * cols);
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      common[i * cols + j] =
        a[i] === b[j] ? common[(i + 1) * cols + j + 1]! + 1 : Math.max(common[(i + 1) * cols + j]!, common[i * cols + j + 1]!);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push({ kind: 'same', text: b[j]!, line: j + 1 });
      i += 1;
      j += 1;
    } else if (j < b.length && (i >= a.length || common[i * cols + j + 1]! >= common[(i + 1) * cols + j]!)) {
      out.push({ kind: 'add', text: b[j]!, line: j + 1 });
      j += 1;
    } else {
      out.push({ kind: 'del', text: a[i]!, line: i + 1 });
      i += 1;
    }
  }
  return out;
}

/** The MSP ID the examples give an organisation (`org3` → `Org3MSP`). */
export function mspFor(name: string): string {
  const words = name.split('-').filter(Boolean);
  return `${words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')}MSP`;
}

/** Peer names from a comma- or space-separated list (`peer0, peer1`). */
export function peerNames(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}
