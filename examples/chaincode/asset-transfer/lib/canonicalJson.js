'use strict';

/**
 * Canonical JSON: object keys sorted by UTF-16 code units (JavaScript's default sort, which
 * equals byte order for ASCII keys), no whitespace, arrays in their own order.
 *
 * Every peer that endorses a transaction must write byte-identical values, or the endorsements
 * disagree and the transaction is invalid. JSON.stringify keeps insertion order (and moves
 * integer-like keys first), so values written to the ledger go through this function instead.
 *
 * Throws a TypeError for values JSON cannot represent faithfully: undefined, functions,
 * symbols, bigints and non-finite numbers. Object properties whose value is undefined are
 * skipped, as JSON.stringify does.
 *
 * @param {*} value plain data (null, boolean, finite number, string, array, plain object)
 * @returns {string} the canonical JSON text
 */
function canonicalJson(value) {
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
        const keys = Object.keys(value).filter((key) => value[key] !== undefined).sort();
        const members = keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`);
        return `{${members.join(',')}}`;
    }
    throw new TypeError(`cannot encode a value of type ${typeof value} as JSON`);
}

module.exports = { canonicalJson };
