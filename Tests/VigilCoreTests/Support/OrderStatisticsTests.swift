// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

struct OrderStatisticsTests {
    /// The quantile of a sorted copy, as the ranker computed it before.
    static func sortedQuantile(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        let position = q * Double(sorted.count - 1)
        let lower = Int(position)
        let upper = min(lower + 1, sorted.count - 1)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
    }

    @Test func quantilesMatchSortingOnRandomTiedSortedAndReversedValues() {
        var random = SplitMix64(seed: 7)
        for trial in 0..<2_000 {
            let count = 1 + Int(random.next() % 60)
            var values = (0..<count).map { _ in Double(random.next() % (trial % 3 == 0 ? 4 : 1_000)) / 8 }
            if trial % 5 == 1 { values.sort() }
            if trial % 5 == 2 { values.sort(by: >) }
            for q in [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0] {
                var copy = values
                #expect(OrderStatistics.quantile(q, of: &copy) == Self.sortedQuantile(values, q), "\(values) q \(q)")
                #expect(copy.sorted() == values.sorted())
            }
        }
    }

    @Test func quartilesMatchSortingAtEverySize() {
        var random = SplitMix64(seed: 11)
        for trial in 0..<3_000 {
            let count = 1 + trial % 40
            var values = (0..<count).map { _ in Double(random.next() % (trial % 2 == 0 ? 3 : 500)) }
            if trial % 7 == 3 { values.sort() }
            let expected = [0.25, 0.5, 0.75].map { Self.sortedQuantile(values, $0) }
            var copy = values
            let found = OrderStatistics.quartiles(of: &copy)
            #expect([found.lower, found.median, found.upper] == expected, "\(values)")
        }
    }

    @Test func selectionStopsOnNaN() {
        var values: [Double] = [3, .nan, 1, .nan, 2, 5, .nan, 4]
        for q in [0.0, 0.25, 0.5, 0.75, 1.0] {
            _ = OrderStatistics.quantile(q, of: &values)
        }
        #expect(values.count == 8)
    }
}
