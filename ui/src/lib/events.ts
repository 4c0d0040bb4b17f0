// One deployment's events, followed live over fetch (see sse.ts for the format).

import { request } from './api';
import { SseParser } from './sse';

export interface JobEvent {
  id: number;
  deployment: string;
  at: string;
  kind: 'state' | 'progress';
  data: Record<string, unknown>;
}

/**
 * Follow deployment `id`'s events from the start (or after `after`), calling `onEvent` for
 * each, until the server ends the stream (after the job's final state) or `signal` aborts.
 * Returns the last event id seen, for a resume.
 */
export async function followEvents(
  id: string,
  onEvent: (event: JobEvent) => void,
  { signal, after }: { signal: AbortSignal; after?: number },
): Promise<number | undefined> {
  const response = await request(`/api/v1/deployments/${encodeURIComponent(id)}/events`, {
    signal,
    headers: after !== undefined ? { 'Last-Event-ID': String(after) } : undefined,
  });
  let last = after;
  if (!response.body) return last;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return last;
    for (const frame of parser.push(value)) {
      const event = JSON.parse(frame.data) as JobEvent;
      last = event.id;
      onEvent(event);
    }
  }
}
