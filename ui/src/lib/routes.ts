// The console's URL scheme: one path per screen (pure, so it is unit-tested without a DOM).

export type Route =
  | { screen: 'signin'; next: string }
  | { screen: 'networks' }
  | { screen: 'network'; name: string }
  | { screen: 'deployment'; network: string; id: string }
  | { screen: 'certificates'; network: string }
  | { screen: 'chaincodes'; network: string }
  | { screen: 'smoke'; network: string }
  | { screen: 'audit'; before: number | null }
  | { screen: 'editor'; network: string | null }
  | { screen: 'plan'; network: string }
  | { screen: 'add-organization'; network: string }
  | { screen: 'notfound'; path: string };

/** The route of a URL path and query (`/networks/x`, `?next=…`). */
export function match(path: string, search = ''): Route {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === 'networks')) {
    return { screen: 'networks' };
  }
  if (parts.length === 1 && parts[0] === 'signin') {
    const next = new URLSearchParams(search).get('next') ?? '/networks';
    // Only a path of this console: never an absolute URL elsewhere (`//evil`, `https:`).
    return { screen: 'signin', next: next.startsWith('/') && !next.startsWith('//') ? next : '/networks' };
  }
  if (parts.length === 1 && parts[0] === 'new-network') {
    return { screen: 'editor', network: null };
  }
  if (parts[0] === 'networks' && parts.length === 2) {
    return { screen: 'network', name: parts[1] ?? '' };
  }
  if (parts.length === 1 && parts[0] === 'audit') {
    const before = Number(new URLSearchParams(search).get('before'));
    return { screen: 'audit', before: Number.isInteger(before) && before > 0 ? before : null };
  }
  if (parts[0] === 'networks' && parts.length === 3) {
    const sub = parts[2];
    if (sub === 'certificates' || sub === 'chaincodes' || sub === 'smoke') {
      return { screen: sub, network: parts[1] ?? '' };
    }
    if (sub === 'edit') return { screen: 'editor', network: parts[1] ?? '' };
    if (sub === 'plan' || sub === 'add-organization') return { screen: sub, network: parts[1] ?? '' };
  }
  if (parts[0] === 'networks' && parts.length === 4 && parts[2] === 'deployments') {
    return { screen: 'deployment', network: parts[1] ?? '', id: parts[3] ?? '' };
  }
  return { screen: 'notfound', path };
}
