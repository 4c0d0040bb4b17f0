// One line for what runs of a network, from its `…/status` (the list's "running" column and
// the detail screen's summary).

import { healthOf } from './graph';
import type { NetworkStatus } from './types';

export interface Running {
  /** running: every node healthy; degraded: some; stopped: none though deployed; absent: never deployed. */
  kind: 'running' | 'degraded' | 'stopped' | 'absent' | 'unknown';
  text: string;
}

export function runningOf(status: NetworkStatus): Running {
  const nodes = status.nodes;
  if (!nodes || nodes.length === 0) return { kind: 'unknown', text: 'see its status' };
  const healthy = nodes.filter((n) => healthOf(n) === 'healthy').length;
  const absent = nodes.filter((n) => healthOf(n) === 'absent').length;
  const of = `${healthy}/${nodes.length} nodes healthy`;
  if (healthy === nodes.length) return { kind: 'running', text: `running, ${of}` };
  if (absent === nodes.length) return { kind: 'absent', text: 'not deployed' };
  if (healthy === 0) return { kind: 'stopped', text: `stopped, ${of}` };
  return { kind: 'degraded', text: `degraded, ${of}` };
}

/** A time of the API (UTC ISO 8601) in the viewer's zone and locale. */
export function localTime(iso: string | null | undefined): string {
  if (!iso) return '–';
  const when = new Date(iso);
  return Number.isNaN(when.getTime()) ? iso : when.toLocaleString();
}
