// Who the signed-in token is (`GET /api/v1/whoami`): its name, role, organisation scope and
// the actions its role allows. Screens show an action's button only when `may(action)`: until
// the answer arrives (or when it fails) no action button shows, so a viewer never sees one.

import { call } from './api';
import { token } from './session';

export interface Whoami {
  id: string;
  name: string;
  role: string;
  org: string | null;
  expiresAt: string | null;
  actions: string[];
}

/** The API's action names (baas/api/auth.py `Action`) the console checks. */
export type Action =
  | 'deploy-up'
  | 'create-network'
  | 'replace-network'
  | 'cancel-deployment'
  | 'change-certificates'
  | 'read-certificates'
  | 'run-smoke'
  | 'read-audit'
  | 'approve-chaincode';

class Me {
  current = $state<Whoami | null>(null);
  private asked: string | null = null;

  /** Ask the API who the session's token is (once per token). */
  load(): void {
    const secret = token();
    if (secret === null || secret === this.asked) return;
    this.asked = secret;
    this.current = null;
    call<Whoami>('/api/v1/whoami')
      .then((found) => {
        if (token() === secret) this.current = found;
      })
      .catch(() => {
        // a 401 ends the session (api.ts); otherwise the console shows no action buttons
        if (this.asked === secret) this.asked = null;
      });
  }

  forget(): void {
    this.asked = null;
    this.current = null;
  }

  may(action: Action): boolean {
    return this.current?.actions.includes(action) ?? false;
  }
}

export const me = new Me();
