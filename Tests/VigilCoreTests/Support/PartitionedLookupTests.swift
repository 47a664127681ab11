// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

@Suite struct PartitionedLookupTests {
    /// Against a `Dictionary` of last occurrences, from one key to many partitions, with repeated keys, keys that
    /// share their top bits, nil queries and queries of absent keys.
    @Test(arguments: [1, 2, 1_000, 5_000, 40_000])
    func agreesWithDictionary(count: Int) {
        var random = SplitMix64(seed: UInt64(count))
        var keys: [UInt64] = []
        for position in 0..<count {
            switch random.next() % 8 {
            case 0 where position > 0: keys.append(keys[Int(random.next() % UInt64(position))])
            case 1: keys.append(0xABCD << 48 | random.next() >> 16)
            default: keys.append(random.next())
            }
        }
        var last: [UInt64: Int] = [:]
        for (position, key) in keys.enumerated() { last[key] = position }
        var queries: [UInt64?] = []
        for _ in 0..<(count * 2) {
            switch random.next() % 4 {
            case 0: queries.append(nil)
            case 1: queries.append(random.next())
            default: queries.append(keys[Int(random.next() % UInt64(count))])
            }
        }
        let found = PartitionedLookup.positions(of: queries, in: keys)
        let expected = queries.map { query in query.flatMap { last[$0] } ?? -1 }
        #expect(found.count == expected.count)
        #expect(zip(found, expected).count { $0 != $1 } == 0)
        #expect(found.contains { $0 >= 0 } && found.contains(-1))
    }

    @Test func emptyInputs() {
        #expect(PartitionedLookup.positions(of: [1, nil], in: []) == [-1, -1])
        #expect(PartitionedLookup.positions(of: [], in: [1, 2]).isEmpty)
    }
}
