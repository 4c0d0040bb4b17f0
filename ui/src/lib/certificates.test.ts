import { describe, expect, it } from 'vitest';
import { sortCertificates, urgency, type Certificate } from './certificates';

const cert = (holder: string, daysLeft: number | null, state = 'ok'): Certificate => ({
  org: 'org1',
  holder,
  kind: 'sign',
  path: `/${holder}`,
  state,
  daysLeft,
});

describe('certificates', () => {
  it('colours days left: red under 7, amber under 30, red when flagged', () => {
    expect(urgency(cert('a', 6))).toBe('red');
    expect(urgency(cert('a', 7))).toBe('amber');
    expect(urgency(cert('a', 29))).toBe('amber');
    expect(urgency(cert('a', 30))).toBe('ok');
    expect(urgency(cert('a', 300, 'revoked'))).toBe('red');
    expect(urgency(cert('a', null, 'missing'))).toBe('red');
  });

  it('sorts flagged first, then fewest days left', () => {
    const sorted = sortCertificates([cert('c', 300), cert('b', 5), cert('r', 200, 'revoked'), cert('a', 40)]);
    expect(sorted.map((c) => c.holder)).toEqual(['r', 'b', 'a', 'c']);
  });
});
