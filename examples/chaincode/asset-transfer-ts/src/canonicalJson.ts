/**
 * Canonical JSON: object keys sorted by UTF-16 code units, no whitespace, arrays in their own
 * order. Every endorsing peer must write byte-identical values, and JSON.stringify keeps
 * insertion order, so everything written to the ledger goes through this function.
 *
 * Throws a TypeError for values JSON cannot represent faithfully (undefined at the top level,
 * functions, symbols, bigints, non-finite numbers); object properties whose value is undefined
 * are skipped, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
    if (value === null || typeof value === 'boolean' || typeof value === 'string') {
        return JSON.stringify(value);
    }
    if (typeof value === 'number') {
        if (!Number.isFinite(value)) {
            throw new TypeError(`cannot encode the number ${value} as JSON`);
        }
        return JSON.stringify(value);
    }
    if (Array.isArray(value)) {
        return `[${value.map(canonicalJson).join(',')}]`;
    }
    if (typeof value === 'object') {
        const record = value as Record<string, unknown>;
        const keys = Object.keys(record)
            .filter((key) => record[key] !== undefined)
            .sort();
        return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
    }
    throw new TypeError(`cannot encode a value of type ${typeof value} as JSON`);
}
