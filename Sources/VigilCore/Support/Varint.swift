// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// The base-128 varint of protobuf, snappy's length preamble and the write-ahead log: seven bits a byte, the
/// lowest first, the top bit set on every byte but the last.
public enum Varint {
    /// Appends `value` to `bytes` in 1 to 10 bytes.
    @inlinable
    public static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }
}
