'use strict';

// The entry point fabric-chaincode-node loads (package.json "main"): the contracts this
// chaincode serves. The first one is the default, so its transactions are invoked by bare name.

const { AssetTransfer } = require('./lib/assetTransfer');

module.exports.AssetTransfer = AssetTransfer;
module.exports.contracts = [AssetTransfer];
