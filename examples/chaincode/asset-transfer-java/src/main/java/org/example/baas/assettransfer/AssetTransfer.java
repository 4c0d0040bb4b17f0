package org.example.baas.assettransfer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.hyperledger.fabric.contract.Context;
import org.hyperledger.fabric.contract.ContractInterface;
import org.hyperledger.fabric.contract.annotation.Contract;
import org.hyperledger.fabric.contract.annotation.Default;
import org.hyperledger.fabric.contract.annotation.Info;
import org.hyperledger.fabric.contract.annotation.Transaction;
import org.hyperledger.fabric.shim.ChaincodeException;
import org.hyperledger.fabric.shim.ChaincodeStub;
import org.hyperledger.fabric.shim.ledger.KeyValue;
import org.hyperledger.fabric.shim.ledger.QueryResultsIterator;

/**
 * The asset-transfer contract: assets with a colour, a size, an owner and an appraised value,
 * one per ledger key (the asset ID), stored as canonical JSON ({@link Asset#toJson}).
 *
 * <p>The same transactions, arguments and results as the JavaScript example
 * (examples/chaincode/asset-transfer): every argument is a string as Fabric passes it; sizes and
 * values are non-negative integers written in decimal. It is the default contract, so clients
 * call {@code CreateAsset} without a contract prefix.
 */
@Contract(name = "AssetTransfer", info = @Info(title = "Asset transfer", version = "1.0.0"))
@Default
public final class AssetTransfer implements ContractInterface {

    private static final Pattern NON_NEGATIVE_INTEGER = Pattern.compile("0|[1-9][0-9]{0,17}");

    /** The assets InitLedger creates (only those whose ID is still free). */
    private static final List<Asset> SEED = List.of(
            new Asset("asset1", "blue", 5, "Tomoko", 300),
            new Asset("asset2", "red", 5, "Brad", 400),
            new Asset("asset3", "green", 10, "Jin Soo", 500),
            new Asset("asset4", "yellow", 10, "Max", 600),
            new Asset("asset5", "black", 15, "Adriana", 700),
            new Asset("asset6", "white", 15, "Michel", 800));

    /** Seeds asset1..asset6, skipping IDs already taken; returns the created IDs (JSON array). */
    @Transaction(name = "InitLedger", intent = Transaction.TYPE.SUBMIT)
    public String initLedger(final Context ctx) {
        final ChaincodeStub stub = ctx.getStub();
        final List<String> created = new ArrayList<>();
        for (final Asset asset : SEED) {
            if (!exists(stub, asset.id)) {
                write(stub, asset);
                created.add(Asset.Json.quote(asset.id));
            }
        }
        return "[" + String.join(",", created) + "]";
    }

    /** Creates an asset; fails when the ID is taken or an argument is invalid. */
    @Transaction(name = "CreateAsset", intent = Transaction.TYPE.SUBMIT)
    public String createAsset(final Context ctx, final String id, final String color, final String size,
            final String owner, final String appraisedValue) {
        final Asset asset = parse(id, color, size, owner, appraisedValue);
        if (exists(ctx.getStub(), asset.id)) {
            throw new ChaincodeException("the asset " + asset.id + " already exists");
        }
        return write(ctx.getStub(), asset);
    }

    /** The stored asset (JSON); fails when it does not exist. */
    @Transaction(name = "ReadAsset", intent = Transaction.TYPE.EVALUATE)
    public String readAsset(final Context ctx, final String id) {
        return read(ctx.getStub(), requireId(id));
    }

    /** Replaces every field of an existing asset; fails as CreateAsset does, or when it is missing. */
    @Transaction(name = "UpdateAsset", intent = Transaction.TYPE.SUBMIT)
    public String updateAsset(final Context ctx, final String id, final String color, final String size,
            final String owner, final String appraisedValue) {
        final Asset asset = parse(id, color, size, owner, appraisedValue);
        read(ctx.getStub(), asset.id);
        return write(ctx.getStub(), asset);
    }

    /** Deletes an existing asset; fails when it does not exist. */
    @Transaction(name = "DeleteAsset", intent = Transaction.TYPE.SUBMIT)
    public void deleteAsset(final Context ctx, final String id) {
        read(ctx.getStub(), requireId(id));
        ctx.getStub().delState(id);
    }

    /** Gives an existing asset a new (non-empty) owner; returns the previous owner. */
    @Transaction(name = "TransferAsset", intent = Transaction.TYPE.SUBMIT)
    public String transferAsset(final Context ctx, final String id, final String newOwner) {
        final Asset asset = Asset.parse(read(ctx.getStub(), requireId(id)));
        write(ctx.getStub(), asset.withOwner(requireText("owner", newOwner)));
        return asset.owner;
    }

    /** Every asset in key order, as a JSON array ({@code []} on an empty ledger). */
    @Transaction(name = "GetAllAssets", intent = Transaction.TYPE.EVALUATE)
    public String getAllAssets(final Context ctx) throws Exception {
        final List<String> assets = new ArrayList<>();
        try (QueryResultsIterator<KeyValue> results = ctx.getStub().getStateByRange("", "")) {
            for (final KeyValue entry : results) {
                assets.add(entry.getStringValue());
            }
        }
        return "[" + String.join(",", assets) + "]";
    }

    /** Whether an asset with this ID exists. */
    @Transaction(name = "AssetExists", intent = Transaction.TYPE.EVALUATE)
    public boolean assetExists(final Context ctx, final String id) {
        return exists(ctx.getStub(), requireId(id));
    }

    private static boolean exists(final ChaincodeStub stub, final String id) {
        final byte[] data = stub.getState(id);
        return data != null && data.length > 0;
    }

    private static String read(final ChaincodeStub stub, final String id) {
        final byte[] data = stub.getState(id);
        if (data == null || data.length == 0) {
            throw new ChaincodeException("the asset " + id + " does not exist");
        }
        return new String(data, StandardCharsets.UTF_8);
    }

    private static String write(final ChaincodeStub stub, final Asset asset) {
        final String text = asset.toJson();
        stub.putState(asset.id, text.getBytes(StandardCharsets.UTF_8));
        return text;
    }

    private static Asset parse(final String id, final String color, final String size, final String owner,
            final String appraisedValue) {
        return new Asset(requireId(id), requireText("color", color), requireCount("size", size),
                requireText("owner", owner), requireCount("appraised value", appraisedValue));
    }

    private static String requireText(final String what, final String value) {
        if (value == null || value.isEmpty()) {
            throw new ChaincodeException("the " + what + " must be a non-empty string");
        }
        return value;
    }

    private static String requireId(final String id) {
        final String text = requireText("asset ID", id);
        if (text.charAt(0) == '\u0000') {
            throw new ChaincodeException("the asset ID must not start with U+0000 (reserved for composite keys)");
        }
        return text;
    }

    private static long requireCount(final String what, final String value) {
        if (value == null || !NON_NEGATIVE_INTEGER.matcher(value).matches()) {
            throw new ChaincodeException("the " + what + " must be a non-negative integer, got \"" + value + "\"");
        }
        return Long.parseLong(value);
    }
}
