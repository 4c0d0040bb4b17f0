'use strict';

// The asset-transfer contract: assets with a colour, a size, an owner and an appraised value,
// stored one per key (the asset ID) as canonical JSON.
//
// Every method of the class is a transaction (fabric-contract-api exposes all prototype
// methods that do not start with "_"), so helpers live at module level below.

const { Contract } = require('fabric-contract-api');
const { canonicalJson } = require('./canonicalJson');

const NON_NEGATIVE_INTEGER = /^(0|[1-9][0-9]*)$/;

/** The transient map key PutPrivate reads the value from. */
const PRIVATE_VALUE = 'value';

/** The assets InitLedger creates (only those whose ID is still free). */
const SEED = Object.freeze([
    { ID: 'asset1', Color: 'blue', Size: 5, Owner: 'Tomoko', AppraisedValue: 300 },
    { ID: 'asset2', Color: 'red', Size: 5, Owner: 'Brad', AppraisedValue: 400 },
    { ID: 'asset3', Color: 'green', Size: 10, Owner: 'Jin Soo', AppraisedValue: 500 },
    { ID: 'asset4', Color: 'yellow', Size: 10, Owner: 'Max', AppraisedValue: 600 },
    { ID: 'asset5', Color: 'black', Size: 15, Owner: 'Adriana', AppraisedValue: 700 },
    { ID: 'asset6', Color: 'white', Size: 15, Owner: 'Michel', AppraisedValue: 800 },
]);

class AssetTransfer extends Contract {
    constructor() {
        super('AssetTransfer');
    }

    /**
     * Seeds the ledger with six sample assets (asset1 .. asset6). Assets that already exist
     * are left untouched, so calling it again is harmless.
     *
     * @returns {Promise<string>} JSON array of the IDs it created (possibly empty)
     */
    async InitLedger(ctx) {
        const created = [];
        for (const asset of SEED) {
            if (await assetExists(ctx, asset.ID)) {
                continue;
            }
            await writeAsset(ctx, { ...asset });
            created.push(asset.ID);
        }
        return canonicalJson(created);
    }

    /**
     * Creates a new asset. Fails when the ID is taken or an argument is invalid (empty ID, color or
     * owner; size or appraised value not a non-negative integer).
     *
     * @returns {Promise<string>} the asset as stored (canonical JSON)
     */
    async CreateAsset(ctx, id, color, size, owner, appraisedValue) {
        const asset = parseAsset({ id, color, size, owner, appraisedValue });
        if (await assetExists(ctx, asset.ID)) {
            throw new Error(`the asset ${asset.ID} already exists`);
        }
        return writeAsset(ctx, asset);
    }

    /**
     * Returns the asset with the given ID; fails when it does not exist.
     *
     * @returns {Promise<string>} the asset as stored (canonical JSON)
     */
    async ReadAsset(ctx, id) {
        const data = await ctx.stub.getState(requireId(id));
        if (isEmpty(data)) {
            throw new Error(`the asset ${id} does not exist`);
        }
        return Buffer.from(data).toString('utf8');
    }

    /**
     * Replaces every field of an existing asset; fails when it does not exist or an argument
     * is invalid (as for CreateAsset).
     *
     * @returns {Promise<string>} the asset as now stored (canonical JSON)
     */
    async UpdateAsset(ctx, id, color, size, owner, appraisedValue) {
        const asset = parseAsset({ id, color, size, owner, appraisedValue });
        await requireAsset(ctx, asset.ID);
        return writeAsset(ctx, asset);
    }

    /** Deletes an existing asset; fails when it does not exist. */
    async DeleteAsset(ctx, id) {
        await requireAsset(ctx, requireId(id));
        await ctx.stub.deleteState(id);
    }

    /**
     * Gives an existing asset a new (non-empty) owner; fails when the asset does not exist.
     *
     * @returns {Promise<string>} the previous owner
     */
    async TransferAsset(ctx, id, newOwner) {
        const asset = await requireAsset(ctx, requireId(id));
        const owner = requireText('owner', newOwner);
        const oldOwner = asset.Owner;
        asset.Owner = owner;
        await writeAsset(ctx, asset);
        return oldOwner;
    }

    /**
     * Returns every asset, in key order (a range query over all simple keys).
     *
     * @returns {Promise<string>} canonical JSON array of assets (`[]` on an empty ledger)
     */
    async GetAllAssets(ctx) {
        const assets = [];
        const iterator = await ctx.stub.getStateByRange('', '');
        try {
            let result = await iterator.next();
            while (!result.done) {
                assets.push(JSON.parse(Buffer.from(result.value.value).toString('utf8')));
                result = await iterator.next();
            }
        } finally {
            await iterator.close();
        }
        return canonicalJson(assets);
    }

    /** @returns {Promise<boolean>} whether an asset with this ID exists */
    async AssetExists(ctx, id) {
        return assetExists(ctx, requireId(id));
    }

    /**
     * Writes a private value to a private data collection: the value comes from the
     * transient map under `value` (so it never reaches the ordered transaction), the key from
     * the arguments. Reads nothing, so a peer of an organisation outside the collection can
     * endorse it too. baas smoke's private-data check calls it.
     */
    async PutPrivate(ctx, collection, key) {
        const value = ctx.stub.getTransient().get(PRIVATE_VALUE);
        if (isEmpty(value)) {
            throw new Error(`PutPrivate needs the value in the transient map under '${PRIVATE_VALUE}'`);
        }
        await ctx.stub.putPrivateData(requireText('collection', collection), requireId(key), value);
    }

    /**
     * Returns a private value; fails when the collection holds none under the key (or, with
     * memberOnlyRead, when the client's organisation is not a member: the peer refuses).
     *
     * @returns {Promise<string>} the value as written
     */
    async GetPrivate(ctx, collection, key) {
        const data = await ctx.stub.getPrivateData(requireText('collection', collection), requireId(key));
        if (isEmpty(data)) {
            throw new Error(`no private value ${key} in collection ${collection}`);
        }
        return Buffer.from(data).toString('utf8');
    }
}

function isEmpty(data) {
    return !data || data.length === 0;
}

async function assetExists(ctx, id) {
    return !isEmpty(await ctx.stub.getState(id));
}

async function requireAsset(ctx, id) {
    const data = await ctx.stub.getState(id);
    if (isEmpty(data)) {
        throw new Error(`the asset ${id} does not exist`);
    }
    return JSON.parse(Buffer.from(data).toString('utf8'));
}

async function writeAsset(ctx, asset) {
    const text = canonicalJson(asset);
    await ctx.stub.putState(asset.ID, Buffer.from(text, 'utf8'));
    return text;
}

function requireText(what, value) {
    if (typeof value !== 'string' || value.length === 0) {
        throw new Error(`the ${what} must be a non-empty string`);
    }
    return value;
}

function requireId(id) {
    const text = requireText('asset ID', id);
    if (text.startsWith('\u0000')) {
        throw new Error('the asset ID must not start with U+0000 (reserved for composite keys)');
    }
    return text;
}

function requireCount(what, value) {
    const text = String(value);
    if (!NON_NEGATIVE_INTEGER.test(text) || !Number.isSafeInteger(Number(text))) {
        throw new Error(`the ${what} must be a non-negative integer, got ${JSON.stringify(text)}`);
    }
    return Number(text);
}

function parseAsset({ id, color, size, owner, appraisedValue }) {
    return {
        ID: requireId(id),
        Color: requireText('color', color),
        Size: requireCount('size', size),
        Owner: requireText('owner', owner),
        AppraisedValue: requireCount('appraised value', appraisedValue),
    };
}

module.exports = { AssetTransfer, SEED, PRIVATE_VALUE };
