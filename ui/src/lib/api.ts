// The REST API client: every call sends the session's token as `Authorization: Bearer`, reads
// JSON, and turns an error body into an ApiError. A 401 (token unknown, revoked or expired)
// ends the session: the token is forgotten and the sign-in screen says why, then returns
// here. A 403 is left to the screen, which says the token's role does not allow it.

import type { Problem } from './types';
import { signOut, token } from './session';
import { here, router } from './router.svelte';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly hint: string | null;
  /** The error body's other fields (an invalid topology's `diagnostics`). */
  readonly body: Record<string, unknown>;

  constructor(problem: Problem, body: Record<string, unknown> = {}) {
    super(problem.message);
    this.name = 'ApiError';
    this.status = problem.status;
    this.code = problem.code;
    this.hint = problem.hint ?? null;
    this.body = body;
  }
}

/** The problem of a response that failed, from its body when it has one. */
async function problemOf(response: Response): Promise<[Problem, Record<string, unknown>]> {
  try {
    const body = (await response.json()) as Partial<Problem> & Record<string, unknown>;
    if (typeof body.message === 'string') {
      return [{ status: response.status, code: body.code ?? 'error', message: body.message, hint: body.hint ?? null }, body];
    }
  } catch {
    // not JSON: a proxy's page, say
  }
  return [
    {
      status: response.status,
      code: 'http-error',
      message: `the server answered ${response.status} ${response.statusText}`.trim(),
      hint: null,
    },
    {},
  ];
}

const SESSION_ENDED = 'Your session ended: the server no longer accepts this token (revoked, expired or from another server). Sign in with a valid token.';

/** The session-ending 401: forget the token and show the sign-in screen. */
export function endSession(message = SESSION_ENDED): void {
  signOut(message);
  const next = here();
  router.go(`/signin?next=${encodeURIComponent(next.startsWith('/signin') ? '/networks' : next)}`, { replace: true });
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  signal?: AbortSignal;
  /** The token to send instead of the session's (the sign-in screen's check). */
  token?: string;
  /** Leave a 401 to the caller instead of ending the session. */
  keepSessionOn401?: boolean;
  /** More request headers (`Last-Event-ID`). */
  headers?: Record<string, string>;
  /** A text body sent as it is, with its media type (a YAML topology), instead of `body`. */
  text?: { body: string; type: string };
}

/** The raw response of `path` (for streams); throws ApiError on 4xx/5xx. */
export async function request(path: string, options: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  const secret = options.token ?? token();
  if (secret) headers['Authorization'] = `Bearer ${secret}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  } else if (options.text !== undefined) {
    headers['Content-Type'] = options.text.type;
    body = options.text.body;
  }
  let response: Response;
  try {
    response = await fetch(path, { method: options.method ?? 'GET', headers, body, signal: options.signal });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError({
      status: 0,
      code: 'unreachable',
      message: 'the baas server did not answer',
      hint: 'check that `baas serve` is running and this page was loaded from it, then retry',
    });
  }
  if (!response.ok) {
    const [problem, details] = await problemOf(response);
    // Only the session's current token ends it: a late answer to a call made before a sign
    // out (or with another token) must not replace the sign-in screen's message.
    if (response.status === 401 && !options.keepSessionOn401 && secret !== null && secret === token()) {
      endSession();
    }
    throw new ApiError(problem, details);
  }
  return response;
}

/** The JSON body of `path`. */
export async function call<T>(path: string, options: CallOptions = {}): Promise<T> {
  const response = await request(path, options);
  return (await response.json()) as T;
}

/** `/api/v1/networks/<name>…` with the name escaped. */
export function networkPath(name: string, rest = ''): string {
  return `/api/v1/networks/${encodeURIComponent(name)}${rest}`;
}
