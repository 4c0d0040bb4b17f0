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

  it('maps the screens of a network and the audit log', () => {
    expect(match('/networks/a/certificates')).toEqual({ screen: 'certificates', network: 'a' });
    expect(match('/networks/a/chaincodes')).toEqual({ screen: 'chaincodes', network: 'a' });
    expect(match('/networks/a/smoke')).toEqual({ screen: 'smoke', network: 'a' });
    expect(match('/networks/a/other')).toEqual({ screen: 'notfound', path: '/networks/a/other' });
    expect(match('/audit')).toEqual({ screen: 'audit', before: null });
    expect(match('/audit', '?before=42')).toEqual({ screen: 'audit', before: 42 });
    expect(match('/audit', '?before=x')).toEqual({ screen: 'audit', before: null });
  });

  it('maps the editor, the plan and the add-organisation wizard', () => {
    expect(match('/new-network')).toEqual({ screen: 'editor', network: null });
    expect(match('/networks/a/edit')).toEqual({ screen: 'editor', network: 'a' });
    expect(match('/networks/a/plan')).toEqual({ screen: 'plan', network: 'a' });
    expect(match('/networks/a/add-organization')).toEqual({ screen: 'add-organization', network: 'a' });
  });

  it('keeps a sign-in next path only when it is a path of this console', () => {
    expect(match('/signin', '?next=%2Fnetworks%2Fx')).toEqual({ screen: 'signin', next: '/networks/x' });
    expect(match('/signin', '?next=https://elsewhere.example')).toEqual({ screen: 'signin', next: '/networks' });
    expect(match('/signin', '?next=//elsewhere.example')).toEqual({ screen: 'signin', next: '/networks' });
    expect(match('/signin')).toEqual({ screen: 'signin', next: '/networks' });
  });
});
