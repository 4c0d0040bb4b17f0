'use strict';

// The probe chaincode of `baas smoke`: it touches only its own keys.
const { Contract } = require('fabric-contract-api');

class Probe extends Contract {
    constructor() {
        super('probe');
    }

    // Put stores value under key and emits a "probe" event carrying the key.
    async Put(ctx, key, value) {
        await ctx.stub.putState(key, Buffer.from(value, 'utf8'));
        ctx.stub.setEvent('probe', Buffer.from(key, 'utf8'));
        return value;
    }

    // Get returns the value stored under key, or fails when there is none.
    async Get(ctx, key) {
        const value = await ctx.stub.getState(key);
        if (!value || value.length === 0) {
            throw new Error(`the probe key ${key} does not exist`);
        }
        return value.toString('utf8');
    }
}

module.exports.contracts = [Probe];
