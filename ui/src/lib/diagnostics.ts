// Validation diagnostics as the editor shows them (pure: unit-tested without a DOM).

import type { TopologyDiagnostic } from './types';

/** The diagnostics of a failed validation's problem body (`[]` when it has none). */
export function diagnosticsOf(body: Record<string, unknown>): TopologyDiagnostic[] {
  const found = body['diagnostics'];
  return Array.isArray(found) ? (found as TopologyDiagnostic[]) : [];
}

/**
 * The text range a diagnostic marks: from its column to the end of its line (the whole line
 * when it has no column, or the column is past the line's end); line 1 when it has no line.
 */
export function lintRange(
  d: TopologyDiagnostic,
  lineAt: (n: number) => { from: number; to: number },
  lines: number,
): { from: number; to: number } {
  const line = lineAt(Math.min(Math.max(d.line ?? 1, 1), lines));
  const from = line.from + Math.max((d.column ?? 1) - 1, 0);
  return from < line.to ? { from, to: line.to } : { from: line.from, to: line.to };
}

/** Errors first, then by line. */
export function ordered(diagnostics: TopologyDiagnostic[]): TopologyDiagnostic[] {
  const rank = (d: TopologyDiagnostic) => (d.severity === 'error' ? 0 : 1);
  return [...diagnostics].sort((a, b) => rank(a) - rank(b) || (a.line ?? 0) - (b.line ?? 0));
}

/** "line 12, column 5" (or "the whole document"). */
export function where(d: TopologyDiagnostic): string {
  if (d.line === null || d.line === undefined) return d.path ? `at ${d.path}` : 'the whole document';
  return `line ${d.line}${d.column ? `, column ${d.column}` : ''}${d.path ? ` (${d.path})` : ''}`;
}
