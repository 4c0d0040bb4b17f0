// The entry point fabric-chaincode-node loads (package.json "main", compiled to dist/): the
// contracts this chaincode serves; the first is the default (its transactions by bare name).

import { AssetTransfer } from './assetTransfer';

export { AssetTransfer };
export const contracts = [AssetTransfer];
