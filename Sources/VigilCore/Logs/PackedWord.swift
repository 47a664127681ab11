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

/// A small fixed map from packed words to values, searched linearly after a first-byte check: for a few dozen
/// words this beats hashing each candidate word.
struct PackedWordTable<Value: Sendable>: Sendable {
    private var words: [PackedWord] = []
    private var values: [Value] = []
    private var firstBytes = [Bool](repeating: false, count: 256)

    /// Creates a table from spellings; the first spelling of a word wins.
    init(_ entries: [(String, Value)]) {
        for (spelling, value) in entries {
            let bytes = Array(spelling.utf8)
            guard let word = PackedWord(lowercasing: bytes.span), !self.words.contains(word) else { continue }
            self.words.append(word)
            self.values.append(value)
            self.firstBytes[Int(bytes[0] | 0x20)] = true
            self.firstBytes[Int(bytes[0] & ~0x20)] = true
        }
    }

    /// The value of a word given as bytes, ignoring ASCII case.
    @inline(__always)
    func value(for bytes: Span<UInt8>) -> Value? {
        guard bytes.count > 0, bytes.count <= 16, self.firstBytes[Int(bytes[0])],
            let word = PackedWord(lowercasing: bytes)
        else { return nil }
        for index in self.words.indices where self.words[index] == word { return self.values[index] }
        return nil
    }
}
