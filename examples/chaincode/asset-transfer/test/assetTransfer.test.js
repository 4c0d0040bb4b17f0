'use strict';

// Unit tests of the contract's logic against an in-memory ledger (node --test, no framework).
//
// MemoryLedger models what matters to this contract: values are bytes, a missing key reads as
// an empty buffer, range queries return simple keys in lexical order through an iterator that
// must be closed, and a transaction does not see its own writes (Fabric endorses against the
// committed state). A transaction's writes are committed only when it succeeds, as a failed
// endorsement leaves the ledger unchanged.

const test = require('node:test');
const assert = require('node:assert/strict');

const { Contract } = require('fabric-contract-api');
const { AssetTransfer, contracts } = require('..');
const { canonicalJson } = require('../lib/canonicalJson');
const { SEED, PRIVATE_VALUE } = require('../lib/assetTransfer');

class MemoryLedger {
    constructor() {
        this.state = new Map();
        this.private = new Map(); // "<collection>\u0000<key>" -> Buffer
    }

    keys() {
        return [...this.state.keys()].sort();
    }

    raw(key) {
        const value = this.state.get(key);
        return value === undefined ? undefined : Buffer.from(value).toString('utf8');
    }
}

class MemoryStub {
    constructor(ledger, transient = new Map()) {
        this.ledger = ledger;
        this.transient = transient;
        this.writes = new Map(); // key -> Buffer, or null for a delete
        this.privateWrites = new Map(); // "<collection>\u0000<key>" -> Buffer
        this.openIterators = 0;
    }

    getTransient() {
        return this.transient;
    }

    async getPrivateData(collection, key) {
        requireKey(collection);
        requireKey(key);
        const value = this.ledger.private.get(`${collection}\u0000${key}`);
        return value === undefined ? Buffer.alloc(0) : Buffer.from(value);
    }

    async putPrivateData(collection, key, value) {
        requireKey(collection);
        requireKey(key);
        if (!(value instanceof Uint8Array)) {
            throw new TypeError(`putPrivateData(${key}) needs a Buffer/Uint8Array, got ${typeof value}`);
        }
        this.privateWrites.set(`${collection}\u0000${key}`, Buffer.from(value));
    }

    async getState(key) {
        requireKey(key);
        const value = this.ledger.state.get(key);
        return value === undefined ? Buffer.alloc(0) : Buffer.from(value);
    }

    async putState(key, value) {
        requireKey(key);
        if (!(value instanceof Uint8Array)) {
            throw new TypeError(`putState(${key}) needs a Buffer/Uint8Array, got ${typeof value}`);
        }
        this.writes.set(key, Buffer.from(value));
    }

    async deleteState(key) {
        requireKey(key);
        this.writes.set(key, null);
    }

    async getStateByRange(startKey, endKey) {
        const keys = this.ledger
            .keys()
            .filter((key) => !key.startsWith('\u0000'))
            .filter((key) => (startKey === '' || key >= startKey) && (endKey === '' || key < endKey));
        const stub = this;
        let index = 0;
        let closed = false;
        stub.openIterators += 1;
        return {
            async next() {
                if (closed) {
                    throw new Error('iterator used after close');
                }
                if (index >= keys.length) {
                    return { done: true };
                }
                const key = keys[index++];
                return { done: false, value: { key, value: Buffer.from(stub.ledger.state.get(key)) } };
            },
            async close() {
                if (!closed) {
                    closed = true;
                    stub.openIterators -= 1;
                }
            },
        };
    }

    /** Applies this transaction's writes to the ledger. */
    commit() {
        for (const [key, value] of this.privateWrites) {
            this.ledger.private.set(key, value);
        }
        for (const [key, value] of this.writes) {
            if (value === null) {
                this.ledger.state.delete(key);
            } else {
                this.ledger.state.set(key, value);
            }
        }
    }
}

function requireKey(key) {
    if (typeof key !== 'string' || key.length === 0) {
        throw new Error(`invalid key ${JSON.stringify(key)}`);
    }
}

/**
 * Runs one transaction in a fresh context and commits its writes if it succeeds.
 * Returns { result, writes } where writes maps key -> stored text (null for a delete).
 */
async function invoke(ledger, name, ...args) {
    return invokeWith(ledger, new Map(), name, ...args);
}

/** As invoke, with a transient map (name -> Buffer) the transaction can read. */
async function invokeWith(ledger, transient, name, ...args) {
    const contract = new AssetTransfer();
    const stub = new MemoryStub(ledger, transient);
    const ctx = { stub };
    const result = await contract[name](ctx, ...args);
    assert.equal(stub.openIterators, 0, `${name} left an iterator open`);
    stub.commit();
    const writes = {};
    for (const [key, value] of stub.writes) {
        writes[key] = value === null ? null : value.toString('utf8');
    }
    return { result, writes };
}

async function ledgerWith(...assets) {
    const ledger = new MemoryLedger();
    for (const [id, color, size, owner, value] of assets) {
        await invoke(ledger, 'CreateAsset', id, color, size, owner, value);
    }
    return ledger;
}

const TRANSACTIONS = [
    'AssetExists',
    'CreateAsset',
    'DeleteAsset',
    'GetAllAssets',
    'GetPrivate',
    'InitLedger',
    'PutPrivate',
    'ReadAsset',
    'TransferAsset',
    'UpdateAsset',
];

test('the module exports exactly one contract, with exactly the expected transactions', () => {
    assert.deepEqual(contracts, [AssetTransfer]);
    const contract = new AssetTransfer();
    assert.ok(contract instanceof Contract);
    assert.equal(contract.getName(), 'AssetTransfer');
    // fabric-contract-api exposes every prototype method not starting with "_" as a transaction.
    const exposed = Object.getOwnPropertyNames(AssetTransfer.prototype)
        .filter((name) => name !== 'constructor' && !name.startsWith('_'))
        .sort();
    assert.deepEqual(exposed, TRANSACTIONS);
});

test('canonicalJson sorts keys at every depth and rejects what JSON cannot hold', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
    assert.equal(canonicalJson({ 10: 'x', 9: 'y', a: 'z' }), '{"10":"x","9":"y","a":"z"}');
    assert.equal(canonicalJson({ a: undefined, b: 'kept' }), '{"b":"kept"}');
    assert.equal(canonicalJson('é"\n'), JSON.stringify('é"\n'));
    assert.throws(() => canonicalJson(Number.NaN), TypeError);
    assert.throws(() => canonicalJson(undefined), TypeError);
    assert.throws(() => canonicalJson(1n), TypeError);
});

test('InitLedger seeds the sample assets once and leaves existing ones alone', async () => {
    const ledger = await ledgerWith(['asset3', 'purple', '1', 'Zed', '2']);
    const first = await invoke(ledger, 'InitLedger');
    const seeded = SEED.map((asset) => asset.ID).filter((id) => id !== 'asset3');
    assert.deepEqual(JSON.parse(first.result), seeded);
    assert.deepEqual(ledger.keys(), SEED.map((asset) => asset.ID));
    assert.equal(JSON.parse(ledger.raw('asset3')).Owner, 'Zed');
    assert.deepEqual(JSON.parse(ledger.raw('asset1')), SEED[0]);

    const second = await invoke(ledger, 'InitLedger');
    assert.equal(second.result, '[]');
    assert.deepEqual(second.writes, {});
});

test('CreateAsset stores canonical JSON with numeric size and value', async () => {
    const ledger = new MemoryLedger();
    const { result, writes } = await invoke(ledger, 'CreateAsset', 'a1', 'blue', '5', 'Tomoko', '300');
    const expected = '{"AppraisedValue":300,"Color":"blue","ID":"a1","Owner":"Tomoko","Size":5}';
    assert.equal(result, expected);
    assert.deepEqual(writes, { a1: expected });
    assert.equal(ledger.raw('a1'), expected);
});

test('CreateAsset refuses a duplicate ID and leaves the first asset in place', async () => {
    const ledger = await ledgerWith(['a1', 'blue', '5', 'Tomoko', '300']);
    await assert.rejects(invoke(ledger, 'CreateAsset', 'a1', 'red', '1', 'Brad', '1'), {
        message: 'the asset a1 already exists',
    });
    assert.equal(JSON.parse(ledger.raw('a1')).Owner, 'Tomoko');
});

test('CreateAsset and UpdateAsset refuse invalid arguments with a message naming them', async () => {
    const ledger = await ledgerWith(['a1', 'blue', '5', 'Tomoko', '300']);
    const cases = [
        [['', 'blue', '5', 'Tomoko', '300'], /asset ID must be a non-empty string/],
        [['\u0000x', 'blue', '5', 'Tomoko', '300'], /must not start with U\+0000/],
        [['a2', '', '5', 'Tomoko', '300'], /color must be a non-empty string/],
        [['a2', 'blue', 'five', 'Tomoko', '300'], /size must be a non-negative integer, got "five"/],
        [['a2', 'blue', '-1', 'Tomoko', '300'], /size must be a non-negative integer/],
        [['a2', 'blue', '05', 'Tomoko', '300'], /size must be a non-negative integer/],
        [['a2', 'blue', '5', '', '300'], /owner must be a non-empty string/],
        [['a2', 'blue', '5', 'Tomoko', '1.5'], /appraised value must be a non-negative integer/],
        [['a2', 'blue', '5', 'Tomoko', '99999999999999999999'], /appraised value must be/],
        [['a2', 'blue', '5', 'Tomoko'], /appraised value must be a non-negative integer/],
    ];
    for (const [args, message] of cases) {
        await assert.rejects(invoke(ledger, 'CreateAsset', ...args), { message }, `CreateAsset ${args}`);
        const update = ['a1', ...args.slice(1)];
        if (args[0] === 'a2') {
            await assert.rejects(invoke(ledger, 'UpdateAsset', ...update), { message }, `UpdateAsset ${update}`);
        }
    }
    assert.deepEqual(ledger.keys(), ['a1']);
    assert.equal(ledger.raw('a1'), '{"AppraisedValue":300,"Color":"blue","ID":"a1","Owner":"Tomoko","Size":5}');
});

test('ReadAsset returns the stored asset, and names a missing one', async () => {
    const ledger = await ledgerWith(['a1', 'blue', '5', 'Tomoko', '300']);
    const { result, writes } = await invoke(ledger, 'ReadAsset', 'a1');
    assert.equal(result, ledger.raw('a1'));
    assert.deepEqual(writes, {});
    await assert.rejects(invoke(ledger, 'ReadAsset', 'nope'), { message: 'the asset nope does not exist' });
});

test('UpdateAsset replaces every field of an existing asset only', async () => {
    const ledger = await ledgerWith(['a1', 'blue', '5', 'Tomoko', '300']);
    const { result } = await invoke(ledger, 'UpdateAsset', 'a1', 'green', '7', 'Max', '350');
    assert.equal(result, '{"AppraisedValue":350,"Color":"green","ID":"a1","Owner":"Max","Size":7}');
    assert.equal(ledger.raw('a1'), result);
    await assert.rejects(invoke(ledger, 'UpdateAsset', 'a9', 'green', '7', 'Max', '350'), {
        message: 'the asset a9 does not exist',
    });
    assert.deepEqual(ledger.keys(), ['a1']);
});

test('DeleteAsset removes an existing asset and names a missing one', async () => {
    const ledger = await ledgerWith(['a1', 'blue', '5', 'Tomoko', '300'], ['a2', 'red', '5', 'Brad', '400']);
    const { result, writes } = await invoke(ledger, 'DeleteAsset', 'a1');
    assert.equal(result, undefined);
    assert.deepEqual(writes, { a1: null });
    assert.deepEqual(ledger.keys(), ['a2']);
    await assert.rejects(invoke(ledger, 'DeleteAsset', 'a1'), { message: 'the asset a1 does not exist' });
});

test('TransferAsset returns the old owner and changes only the owner', async () => {
    const ledger = await ledgerWith(['a1', 'blue', '5', 'Tomoko', '300']);
    const { result } = await invoke(ledger, 'TransferAsset', 'a1', 'Brad');
    assert.equal(result, 'Tomoko');
    assert.equal(ledger.raw('a1'), '{"AppraisedValue":300,"Color":"blue","ID":"a1","Owner":"Brad","Size":5}');
    const again = await invoke(ledger, 'TransferAsset', 'a1', 'Jin Soo');
    assert.equal(again.result, 'Brad');
    await assert.rejects(invoke(ledger, 'TransferAsset', 'a1', ''), { message: /owner must be a non-empty string/ });
    await assert.rejects(invoke(ledger, 'TransferAsset', 'zz', 'Max'), { message: 'the asset zz does not exist' });
});

test('GetAllAssets lists every asset in key order as a JSON array', async () => {
    const empty = await invoke(new MemoryLedger(), 'GetAllAssets');
    assert.equal(empty.result, '[]');

    const ledger = await ledgerWith(['b', 'red', '1', 'Brad', '2'], ['a', 'blue', '3', 'Tomoko', '4']);
    const { result, writes } = await invoke(ledger, 'GetAllAssets');
    assert.deepEqual(writes, {});
    assert.equal(
        result,
        '[{"AppraisedValue":4,"Color":"blue","ID":"a","Owner":"Tomoko","Size":3},' +
            '{"AppraisedValue":2,"Color":"red","ID":"b","Owner":"Brad","Size":1}]',
    );
});

test('AssetExists answers true and false', async () => {
    const ledger = await ledgerWith(['a1', 'blue', '5', 'Tomoko', '300']);
    assert.equal((await invoke(ledger, 'AssetExists', 'a1')).result, true);
    assert.equal((await invoke(ledger, 'AssetExists', 'a2')).result, false);
});

test('two peers running the same transactions write byte-identical values', async () => {
    const peers = [new MemoryLedger(), new MemoryLedger()];
    const script = [
        ['InitLedger'],
        ['CreateAsset', 'x', 'teal', '2', 'Ana', '10'],
        ['TransferAsset', 'asset1', 'Ana'],
        ['UpdateAsset', 'asset2', 'pink', '6', 'Brad', '410'],
        ['DeleteAsset', 'asset4'],
        ['GetAllAssets'],
    ];
    const outputs = [];
    for (const ledger of peers) {
        const run = [];
        for (const [name, ...args] of script) {
            run.push(await invoke(ledger, name, ...args));
        }
        outputs.push(run);
    }
    assert.deepEqual(outputs[0], outputs[1]);
    assert.deepEqual(
        peers[0].keys().map((key) => peers[0].raw(key)),
        peers[1].keys().map((key) => peers[1].raw(key)),
    );
    for (const key of peers[0].keys()) {
        const text = peers[0].raw(key);
        assert.equal(text, canonicalJson(JSON.parse(text)), `${key} is not stored canonically`);
    }
});

test('PutPrivate stores the transient value in the collection only, and GetPrivate reads it', async () => {
    const ledger = new MemoryLedger();
    const transient = new Map([[PRIVATE_VALUE, Buffer.from('secret 42')]]);
    const { result, writes } = await invokeWith(ledger, transient, 'PutPrivate', 'org1Private', 'k1');
    assert.equal(result, undefined);
    assert.deepEqual(writes, {}, 'nothing is written to the public state');
    assert.equal((await invoke(ledger, 'GetPrivate', 'org1Private', 'k1')).result, 'secret 42');
    await assert.rejects(invoke(ledger, 'GetPrivate', 'other', 'k1'), /no private value k1 in collection other/);
});

test('PutPrivate refuses a missing transient value and bad names; GetPrivate names a missing key', async () => {
    const ledger = new MemoryLedger();
    await assert.rejects(invoke(ledger, 'PutPrivate', 'c', 'k'), /transient map under 'value'/);
    const empty = new Map([[PRIVATE_VALUE, Buffer.alloc(0)]]);
    await assert.rejects(invokeWith(ledger, empty, 'PutPrivate', 'c', 'k'), /transient map/);
    const value = new Map([[PRIVATE_VALUE, Buffer.from('v')]]);
    await assert.rejects(invokeWith(ledger, value, 'PutPrivate', '', 'k'), /collection must be a non-empty string/);
    await assert.rejects(invokeWith(ledger, value, 'PutPrivate', 'c', ''), /asset ID must be a non-empty string/);
    await assert.rejects(invoke(ledger, 'GetPrivate', 'c', 'nope'), /no private value nope in collection c/);
    assert.equal(ledger.private.size, 0);
});
