// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// An open-addressing table from a 64-bit hash to a slot number: the miner's per-line lookup, span links.
///
/// Keys are already well-mixed hashes (``SignatureHash``, ``StableHash``), so the table indexes with their low bits directly
/// instead of hashing them again as `Dictionary` would. Linear probing, power-of-two capacity, at most half full.
struct HashSlotTable: Sendable {
    private var keys: [UInt64]
    private var slots: [Int32]
    private var mask: Int
    /// Entries stored.
    private(set) var count = 0

    private static let empty: Int32 = -1

    /// Creates an empty table.
    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        self.keys = [UInt64](repeating: 0, count: size)
        self.slots = [Int32](repeating: Self.empty, count: size)
        self.mask = size - 1
    }

    /// The slot stored for `key`, if any.
    @inline(__always)
    func slot(for key: UInt64) -> Int? {
        var index = Int(truncatingIfNeeded: key) & self.mask
        while true {
            let slot = self.slots[index]
            if slot == Self.empty { return nil }
            if self.keys[index] == key { return Int(slot) }
            index = (index + 1) & self.mask
        }
    }

    /// Stores `slot` for `key`, replacing an earlier value.
    mutating func set(_ slot: Int, for key: UInt64) {
        if (self.count + 1) * 2 > self.slots.count { self.grow() }
        var index = Int(truncatingIfNeeded: key) & self.mask
        while self.slots[index] != Self.empty && self.keys[index] != key { index = (index + 1) & self.mask }
        if self.slots[index] == Self.empty { self.count += 1 }
        self.keys[index] = key
        self.slots[index] = Int32(slot)
    }

    /// Removes every entry, keeping the capacity.
    mutating func removeAll() {
        for index in self.slots.indices { self.slots[index] = Self.empty }
        self.count = 0
    }

    private mutating func grow() {
        let oldKeys = self.keys
        let oldSlots = self.slots
        let size = oldSlots.count * 2
        self.keys = [UInt64](repeating: 0, count: size)
        self.slots = [Int32](repeating: Self.empty, count: size)
        self.mask = size - 1
        self.count = 0
        for index in oldSlots.indices where oldSlots[index] != Self.empty {
            self.set(Int(oldSlots[index]), for: oldKeys[index])
        }
    }
}
