// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// A 64-bit FNV-1a hash with a final avalanche, stable across processes and platforms.
///
/// Swift's `Hasher` is seeded per process, so anything persisted or shown to users (template IDs) uses this.
struct StableHash {
    private(set) var state: UInt64 = 0xcbf2_9ce4_8422_2325

    /// Mixes one byte in.
    @inline(__always)
    mutating func combine(_ byte: UInt8) {
        self.state = (self.state ^ UInt64(byte)) &* 0x100_0000_01b3
    }

    /// The finished hash (a murmur-style finaliser spreads the low bits).
    var value: UInt64 {
        var x = self.state
        x ^= x >> 33
        x &*= 0xff51_afd7_ed55_8ccd
        x ^= x >> 33
        x &*= 0xc4ce_b9fe_1a85_ec53
        x ^= x >> 33
        return x
    }

    /// The hash of a string's UTF-8 bytes.
    static func of(_ text: String) -> UInt64 {
        var hash = StableHash()
        for byte in text.utf8 { hash.combine(byte) }
        return hash.value
    }
}

/// A fast 64-bit hash, eight bytes per step: masked lines for the miner's lookup table, span IDs.
///
/// In-process only (the miner verifies lookups byte for byte); IDs shown to people use ``StableHash``.
public enum SignatureHash {
    /// The hash of `bytes`.
    @inline(__always)
    static func of(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { Self.of($0) }
    }

    /// The hash of a string's UTF-8 bytes (the same as of the bytes themselves).
    public static func of(_ text: String) -> UInt64 {
        var text = text
        return text.withUTF8 { Self.of(UnsafeRawBufferPointer($0)) }
    }

    /// The hash of `raw`, continuing from `seed` (a hash of what came before, so that pieces chain).
    @inline(__always)
    public static func of(_ raw: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        let count = raw.count
        var hash = 0x9E37_79B9_7F4A_7C15 ^ UInt64(count) ^ seed
        var index = 0
        while index + 8 <= count {
            hash = (hash ^ raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            hash ^= hash >> 32
            index += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while index < count {
            tail |= UInt64(raw[index]) << shift
            shift += 8
            index += 1
        }
        hash = (hash ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        hash ^= hash >> 33
        hash &*= 0xFF51_AFD7_ED55_8CCD
        return hash ^ (hash >> 33)
    }
}
