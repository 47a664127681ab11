// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// An open-addressing table from a 64-bit hash to a slot number: the miner's per-line lookup, span links.
///
/// Keys are already well-mixed hashes (``SignatureHash``, ``StableHash``), so the table indexes with their low bits directly
/// instead of hashing them again as `Dictionary` would. Linear probing, power-of-two capacity, at most half full.
struct HashSlotTable: Sendable {
    /// A key and its slot side by side, so a probe touches one cache line, not two (a million span links miss
    /// the cache on almost every lookup).
    private struct Entry {
        var key: UInt64
        var slot: Int32
    }

    private var entries: [Entry]
    private var mask: Int
    /// Entries stored.
    private(set) var count = 0

    private static let empty: Int32 = -1

    /// Creates an empty table.
    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        self.entries = [Entry](repeating: Entry(key: 0, slot: Self.empty), count: size)
        self.mask = size - 1
    }

    /// The slot stored for `key`, if any.
    @inline(__always)
    func slot(for key: UInt64) -> Int? {
        var index = Int(truncatingIfNeeded: key) & self.mask
        while true {
            let entry = self.entries[index]
            if entry.slot == Self.empty { return nil }
            if entry.key == key { return Int(entry.slot) }
            index = (index + 1) & self.mask
        }
    }

    /// Stores `slot` for `key`, replacing an earlier value.
    mutating func set(_ slot: Int, for key: UInt64) {
        if (self.count + 1) * 2 > self.entries.count { self.grow() }
        var index = Int(truncatingIfNeeded: key) & self.mask
        while self.entries[index].slot != Self.empty && self.entries[index].key != key {
            index = (index + 1) & self.mask
        }
        if self.entries[index].slot == Self.empty { self.count += 1 }
        self.entries[index] = Entry(key: key, slot: Int32(slot))
    }

    /// Removes every entry, keeping the capacity.
    mutating func removeAll() {
        for index in self.entries.indices { self.entries[index].slot = Self.empty }
        self.count = 0
    }

    private mutating func grow() {
        let old = self.entries
        let size = old.count * 2
        self.entries = [Entry](repeating: Entry(key: 0, slot: Self.empty), count: size)
        self.mask = size - 1
        self.count = 0
        for entry in old where entry.slot != Self.empty { self.set(Int(entry.slot), for: entry.key) }
    }
}
