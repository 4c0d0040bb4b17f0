// The asset-transfer contract in TypeScript: assets with a colour, a size, an owner and an
// appraised value, stored one per key (the asset ID) as canonical JSON.
//
// fabric-contract-api exposes every prototype method whose name does not start with "_" as a
// transaction, so helpers live at module level.

import { Context, Contract } from 'fabric-contract-api';

import { Asset, parseAsset, requireId, requireText } from './asset';
import { canonicalJson } from './canonicalJson';

/** The assets InitLedger creates (only those whose ID is still free). */
export const SEED: readonly Asset[] = Object.freeze([
    { ID: 'asset1', Color: 'blue', Size: 5, Owner: 'Tomoko', AppraisedValue: 300 },
    { ID: 'asset2', Color: 'red', Size: 5, Owner: 'Brad', AppraisedValue: 400 },
    { ID: 'asset3', Color: 'green', Size: 10, Owner: 'Jin Soo', AppraisedValue: 500 },
]);

export class AssetTransfer extends Contract {
    constructor() {
        super('AssetTransfer');
    }

    /** Seeds the ledger; existing IDs are left untouched. Returns the IDs it created (JSON). */
    async InitLedger(ctx: Context): Promise<string> {
        const created: string[] = [];
        for (const asset of SEED) {
            if (!(await assetExists(ctx, asset.ID))) {
                await writeAsset(ctx, { ...asset });
                created.push(asset.ID);
            }
        }
        return canonicalJson(created);
    }

    /** Creates an asset; fails when the ID is taken or an argument is invalid. */
    async CreateAsset(
        ctx: Context,
        id: string,
        color: string,
        size: string,
        owner: string,
        appraisedValue: string,
    ): Promise<string> {
        const asset = parseAsset(id, color, size, owner, appraisedValue);
        if (await assetExists(ctx, asset.ID)) {
            throw new Error(`the asset ${asset.ID} already exists`);
        }
        return writeAsset(ctx, asset);
    }

    /** The stored asset (canonical JSON); fails when it does not exist. */
    async ReadAsset(ctx: Context, id: string): Promise<string> {
        return canonicalJson(await requireAsset(ctx, requireId(id)));
    }

    /** Replaces every field of an existing asset. */
    async UpdateAsset(
        ctx: Context,
        id: string,
        color: string,
        size: string,
        owner: string,
        appraisedValue: string,
    ): Promise<string> {
        const asset = parseAsset(id, color, size, owner, appraisedValue);
        await requireAsset(ctx, asset.ID);
        return writeAsset(ctx, asset);
    }

    /** Deletes an existing asset. */
    async DeleteAsset(ctx: Context, id: string): Promise<void> {
        await requireAsset(ctx, requireId(id));
        await ctx.stub.deleteState(id);
    }

    /** Gives an existing asset a new (non-empty) owner; returns the previous owner. */
    async TransferAsset(ctx: Context, id: string, newOwner: string): Promise<string> {
        const asset = await requireAsset(ctx, requireId(id));
        const previous = asset.Owner;
        asset.Owner = requireText('owner', newOwner);
        await writeAsset(ctx, asset);
        return previous;
    }

    /** Whether an asset with this ID exists. */
    async AssetExists(ctx: Context, id: string): Promise<boolean> {
        return assetExists(ctx, requireId(id));
    }
}

async function assetExists(ctx: Context, id: string): Promise<boolean> {
    const data = await ctx.stub.getState(id);
    return data !== undefined && data.length > 0;
}

async function requireAsset(ctx: Context, id: string): Promise<Asset> {
    const data = await ctx.stub.getState(id);
    if (data === undefined || data.length === 0) {
        throw new Error(`the asset ${id} does not exist`);
    }
    return JSON.parse(Buffer.from(data).toString('utf8')) as Asset;
}

async function writeAsset(ctx: Context, asset: Asset): Promise<string> {
    const text = canonicalJson(asset);
    await ctx.stub.putState(asset.ID, Buffer.from(text, 'utf8'));
    return text;
}
