// The signed-in API token, kept in sessionStorage (this tab only; gone when it closes), and
// the one message the sign-in screen shows after a session ended (a refused token).

const TOKEN_KEY = 'baas.token';
const NOTICE_KEY = 'baas.notice';

/** The token, or null when signed out. */
export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function signIn(secret: string): void {
  sessionStorage.setItem(TOKEN_KEY, secret);
  sessionStorage.removeItem(NOTICE_KEY);
}

/** Forget the token; `notice`, when given, is shown on the sign-in screen once. */
export function signOut(notice?: string): void {
  sessionStorage.removeItem(TOKEN_KEY);
  if (notice) sessionStorage.setItem(NOTICE_KEY, notice);
  else sessionStorage.removeItem(NOTICE_KEY);
}

/** The notice left by {@link signOut}, removed as it is read. */
export function takeNotice(): string | null {
  const notice = sessionStorage.getItem(NOTICE_KEY);
  sessionStorage.removeItem(NOTICE_KEY);
  return notice;
}
