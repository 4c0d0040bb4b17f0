// The console's routes: one URL per screen (deep links and reloads land on the same screen;
// `baas serve` answers every such path with index.html), matched in the browser. Links are
// ordinary <a href> elements (keyboard and middle-click work); a plain left click on a
// same-origin link is turned into a history push instead of a page load.

import { match, type Route } from './routes';

export type { Route };

class Router {
  route = $state<Route>(match(location.pathname, location.search));

  constructor() {
    addEventListener('popstate', () => this.sync());
    document.addEventListener('click', (event) => this.intercept(event));
  }

  /** Show the screen of `url` (a path of this console), adding it to the history. */
  go(url: string, { replace = false } = {}): void {
    if (replace) history.replaceState(null, '', url);
    else history.pushState(null, '', url);
    this.sync();
  }

  private sync(): void {
    this.route = match(location.pathname, location.search);
    // A new screen: start reading at its top (its heading takes the focus, see Screen).
    scrollTo(0, 0);
  }

  private intercept(event: MouseEvent): void {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const anchor = (event.target as Element | null)?.closest?.('a');
    if (!anchor || anchor.target || anchor.hasAttribute('download')) return;
    if ((anchor.getAttribute('href') ?? '').startsWith('#')) return; // in-page (the skip link)
    const url = new URL(anchor.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith('/api/') || url.pathname.startsWith('/docs')) {
      return;
    }
    event.preventDefault();
    this.go(url.pathname + url.search);
  }
}

export const router = new Router();

/** The path of the current location with its query, for `?next=` after a sign-in. */
export function here(): string {
  return location.pathname + location.search;
}
