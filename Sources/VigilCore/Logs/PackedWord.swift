// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// A short ASCII word (at most 16 bytes) packed into two integers, lowercased, for allocation-free lookups.
struct PackedWord: Hashable, Sendable {
    private var low: UInt64 = 0
    private var high: UInt64 = 0

    /// Packs `bytes`, lowercasing ASCII letters; returns `nil` when longer than 16 bytes or empty.
    init?(lowercasing bytes: Span<UInt8>) {
        guard bytes.count <= 16 else { return nil }
        var index = 0
        for position in bytes.indices {
            let byte = bytes[position]
            let lowered = (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
            if index < 8 {
                self.low |= UInt64(lowered) << (8 * UInt64(index))
            } else {
                self.high |= UInt64(lowered) << (8 * UInt64(index - 8))
            }
            index += 1
        }
        if index == 0 { return nil }
    }
}
