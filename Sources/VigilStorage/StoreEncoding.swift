// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

public import Foundation
public import VigilCore

/// The JSON both stores keep in text and blob columns (checkpoints, evidence, labels, latency histograms), so a
/// row means the same in SQLite and in PostgreSQL.
public enum StoreEncoding {
    /// Sorted keys, so equal values give equal bytes.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    /// A checkpoint; detector state may hold infinities and NaN, which are spelled out.
    public static func encode(_ checkpoint: Checkpoint) throws -> Data {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf",
            negativeInfinity: "-inf",
            nan: "nan"
        )
        return try encoder.encode(checkpoint)
    }

    /// A checkpoint written by ``encode(_:)``.
    public static func decodeCheckpoint(_ data: Data) throws -> Checkpoint {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf",
            negativeInfinity: "-inf",
            nan: "nan"
        )
        return try decoder.decode(Checkpoint.self, from: data)
    }
}
