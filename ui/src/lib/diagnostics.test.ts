import { describe, expect, it } from 'vitest';
import { diagnosticsOf, lintRange, ordered, where } from './diagnostics';
import type { TopologyDiagnostic } from './types';

const d = (over: Partial<TopologyDiagnostic>): TopologyDiagnostic => ({
  severity: 'error', path: 'spec.x', line: 2, column: 3, message: 'm', hint: 'h', ...over,
});
// "ab\ncdef\n": line 1 is [0, 2), line 2 is [3, 7)
const lineAt = (n: number) => (n === 1 ? { from: 0, to: 2 } : { from: 3, to: 7 });

describe('diagnostics', () => {
  it('marks from the column to the line end, or the whole line', () => {
    expect(lintRange(d({}), lineAt, 2)).toEqual({ from: 5, to: 7 });
    expect(lintRange(d({ column: null }), lineAt, 2)).toEqual({ from: 3, to: 7 });
    expect(lintRange(d({ column: 40 }), lineAt, 2)).toEqual({ from: 3, to: 7 });
    expect(lintRange(d({ line: null }), lineAt, 2)).toEqual({ from: 0, to: 2 });
    expect(lintRange(d({ line: 9 }), lineAt, 2)).toEqual({ from: 5, to: 7 });
  });

  it('reads a problem body, orders and places them', () => {
    expect(diagnosticsOf({ diagnostics: [d({})] })).toHaveLength(1);
    expect(diagnosticsOf({})).toEqual([]);
    const sorted = ordered([d({ severity: 'warning', line: 1 }), d({ line: 5 }), d({ line: 2 })]);
    expect(sorted.map((x) => x.line)).toEqual([2, 5, 1]);
    expect(where(d({}))).toBe('line 2, column 3 (spec.x)');
    expect(where(d({ line: null, path: '' }))).toBe('the whole document');
  });
});
