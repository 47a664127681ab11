// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Finds, for many 64-bit keys at once, where each occurs in a list of keys (a hash join): the parent of each of
/// a million spans among a million span IDs.
///
/// One hash table over a million keys misses the cache on every insert and every probe. Here keys and queries
/// are first cut by their top bits into partitions of about a thousand each (two sequential passes and a
/// scatter), and each partition is joined in a small table that stays in cache. Keys must be well mixed (hashes).
enum PartitionedLookup {
    /// For each query, the position in `keys` of its last occurrence there; -1 for a nil query or one not found.
    static func positions(of queries: [UInt64?], in keys: [UInt64]) -> [Int] {
        var result = [Int](repeating: -1, count: queries.count)
        guard !keys.isEmpty, !queries.isEmpty else { return result }
        // Partitions of about a thousand keys: a small table of them fits the fastest caches.
        var bits = 0
        while bits < 16 && (keys.count >> bits) > 1024 { bits += 1 }
        let shift = UInt64(64 - bits)
        func partition(_ key: UInt64) -> Int { bits == 0 ? 0 : Int(truncatingIfNeeded: key >> shift) }
        let partitions = 1 << bits

        /// Where each partition starts in a scattered array, from how many fall in each.
        func starts(_ count: (inout [Int]) -> Void) -> [Int] {
            var starts = [Int](repeating: 0, count: partitions + 1)
            count(&starts)
            for index in 1..<starts.count { starts[index] += starts[index - 1] }
            return starts
        }
        let keyStarts = starts { counts in for key in keys { counts[partition(key) + 1] += 1 } }
        let queryStarts = starts { counts in
            for case let query? in queries { counts[partition(query) + 1] += 1 }
        }
        // Scattered in their original order, so the last occurrence of a key is also the last one stored.
        var scatteredKeys = [(key: UInt64, position: Int32)](repeating: (0, 0), count: keys.count)
        var next = keyStarts
        for (position, key) in keys.enumerated() {
            let bucket = partition(key)
            scatteredKeys[next[bucket]] = (key, Int32(truncatingIfNeeded: position))
            next[bucket] += 1
        }
        var scatteredQueries = [(key: UInt64, position: Int32)](repeating: (0, 0), count: queryStarts[partitions])
        next = queryStarts
        for (position, query) in queries.enumerated() {
            guard let query else { continue }
            let bucket = partition(query)
            scatteredQueries[next[bucket]] = (query, Int32(truncatingIfNeeded: position))
            next[bucket] += 1
        }
        var table = HashSlotTable(capacity: 1024)
        for bucket in 0..<partitions where queryStarts[bucket] < queryStarts[bucket + 1] {
            table.removeAll()
            for entry in scatteredKeys[keyStarts[bucket]..<keyStarts[bucket + 1]] {
                table.set(Int(entry.position), for: entry.key)
            }
            for query in scatteredQueries[queryStarts[bucket]..<queryStarts[bucket + 1]] {
                if let found = table.slot(for: query.key) { result[Int(query.position)] = found }
            }
        }
        return result
    }
}
