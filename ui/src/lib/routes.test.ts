import { describe, expect, it } from 'vitest';
import { match } from './routes';

describe('match', () => {
  it('maps each screen path', () => {
    expect(match('/')).toEqual({ screen: 'networks' });
    expect(match('/networks')).toEqual({ screen: 'networks' });
    expect(match('/networks/supplychain')).toEqual({ screen: 'network', name: 'supplychain' });
    expect(match('/networks/a/deployments/dep_0123456789abcdef')).toEqual({
      screen: 'deployment',
      network: 'a',
      id: 'dep_0123456789abcdef',
    });
    expect(match('/nothing/here')).toEqual({ screen: 'notfound', path: '/nothing/here' });
  });

  it('keeps a sign-in next path only when it is a path of this console', () => {
    expect(match('/signin', '?next=%2Fnetworks%2Fx')).toEqual({ screen: 'signin', next: '/networks/x' });
    expect(match('/signin', '?next=https://elsewhere.example')).toEqual({ screen: 'signin', next: '/networks' });
    expect(match('/signin', '?next=//elsewhere.example')).toEqual({ screen: 'signin', next: '/networks' });
    expect(match('/signin')).toEqual({ screen: 'signin', next: '/networks' });
  });
});
