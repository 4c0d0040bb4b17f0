// The certificates screen's pure rules (unit-tested): the order (fewest days left first;
// expired, revoked and missing ones before all) and the colour of the days left.

export interface Certificate {
  org: string;
  holder: string;
  kind: string;
  path: string;
  state: 'ok' | 'expiring' | 'expired' | 'revoked' | 'missing' | string;
  subject?: string;
  serial?: string;
  notAfter?: string | null;
  daysLeft?: number | null;
}

export interface PkiChange {
  org: string;
  holder: string;
  item: string;
  action: string;
  detail?: string | null;
}

/** The kinds an identity's renew or revoke re-issues (CA certificates rotate otherwise). */
export const LEAF_KINDS = ['sign', 'tls'];

/** Fabric warns one week before a certificate expires; baas's own window is 30 days. */
export const RED_DAYS = 7;
export const AMBER_DAYS = 30;

export type Urgency = 'red' | 'amber' | 'ok';

export function urgency(cert: Certificate): Urgency {
  if (cert.state === 'expired' || cert.state === 'revoked' || cert.state === 'missing') return 'red';
  const days = cert.daysLeft;
  if (days === null || days === undefined) return 'red';
  if (days < RED_DAYS) return 'red';
  if (days < AMBER_DAYS) return 'amber';
  return 'ok';
}

function rank(cert: Certificate): number {
  const flagged = cert.state === 'expired' || cert.state === 'revoked' || cert.state === 'missing';
  return flagged ? Number.NEGATIVE_INFINITY : (cert.daysLeft ?? Number.NEGATIVE_INFINITY);
}

/** Fewest days left first; flagged ones first of all; then by organisation and holder. */
export function sortCertificates(certs: readonly Certificate[]): Certificate[] {
  return [...certs].sort(
    (a, b) => rank(a) - rank(b) || a.org.localeCompare(b.org) || a.holder.localeCompare(b.holder) || a.kind.localeCompare(b.kind),
  );
}
