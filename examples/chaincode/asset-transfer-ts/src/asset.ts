/** One asset as stored on the ledger (field names as in Fabric's asset-transfer samples). */
export interface Asset {
    ID: string;
    Color: string;
    Size: number;
    Owner: string;
    AppraisedValue: number;
}

const NON_NEGATIVE_INTEGER = /^(0|[1-9][0-9]*)$/;

/** A non-empty string, or an Error naming ``what``. */
export function requireText(what: string, value: unknown): string {
    if (typeof value !== 'string' || value.length === 0) {
        throw new Error(`the ${what} must be a non-empty string`);
    }
    return value;
}

/** A non-empty asset ID that is not a composite key (those start with U+0000). */
export function requireId(id: unknown): string {
    const text = requireText('asset ID', id);
    if (text.startsWith('\u0000')) {
        throw new Error('the asset ID must not start with U+0000 (reserved for composite keys)');
    }
    return text;
}

/** A decimal non-negative safe integer given as text (leading zeros refused). */
export function requireCount(what: string, value: unknown): number {
    const text = String(value);
    if (!NON_NEGATIVE_INTEGER.test(text) || !Number.isSafeInteger(Number(text))) {
        throw new Error(`the ${what} must be a non-negative integer, got ${JSON.stringify(text)}`);
    }
    return Number(text);
}

/** The asset the transaction arguments describe; throws on the first invalid one. */
export function parseAsset(
    id: string,
    color: string,
    size: string,
    owner: string,
    appraisedValue: string,
): Asset {
    return {
        ID: requireId(id),
        Color: requireText('color', color),
        Size: requireCount('size', size),
        Owner: requireText('owner', owner),
        AppraisedValue: requireCount('appraised value', appraisedValue),
    };
}
