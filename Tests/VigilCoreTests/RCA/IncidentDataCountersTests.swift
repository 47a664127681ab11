// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

@Suite struct IncidentDataCountersTests {
    static let times = (0..<120).map { 1_700_000_000 + Double($0) * 60 }

    /// A running total over the rows, growing `rate(row)` per second.
    static func total(start: Double = 50_000, rate: (Int) -> Double) -> [Double?] {
        var total = start
        return (0..<120).map { row in
            if row > 0 { total += 60 * rate(row) }
            return total
        }
    }

    @Test func aCounterBecomesItsIncreasePerSecond() throws {
        var counter = Self.total { 4 + Double($0 % 3) }
        // A restart from zero, and a missing row.
        counter[50] = 300
        for row in 51..<120 { counter[row] = counter[row - 1]! + 60 * 5 }
        counter[70] = nil
        var data = IncidentData(
            times: Self.times,
            columns: [.init(service: "api", metric: "http_requests_total", values: counter)]
        )
        data.readCountersAsRates()
        let column = data.columns[0]
        #expect(column.metric == "rate(http_requests_total)")
        #expect(column.values[0] == nil)
        #expect(column.values[1] == 5)
        #expect(column.values[50] == 5)
        #expect(column.values[70] == nil)
        // Across the missing row, over the two minutes.
        #expect(column.values[71] == 5)
        #expect(column.values[119] == 5)
    }

    /// A series that only grows is a counter whatever its name; one named like a counter that falls other than to
    /// restart is not, and neither are log and span event counts (already counts per row).
    @Test func whichColumnsAreCounters() {
        let rising = Self.total(rate: { 2 + Double($0 % 2) })
        let wobbly: [Double?] = (0..<120).map { 5 + Double($0 % 3) }
        let errors: [Double?] = (0..<120).map { Double($0 / 10) }
        let data = IncidentData(
            times: Self.times,
            columns: [
                .init(service: "api", metric: "cpu_seconds", values: rising),
                .init(service: "db", metric: "pg_stat_activity_count", values: wobbly),
                .init(service: "api", metric: IncidentData.LogMetric.errorLines, values: errors),
                .init(service: "api", metric: "mem", values: wobbly),
            ]
        )
        #expect(data.columns.map(IncidentData.isCounter) == [true, false, false, false])
    }

    /// Counters climb steadily, so each one's best single split is the middle of the window: read raw, nine of
    /// them outvote the fault at row 90 and the incident seems to start at row 60. Read as rates they stay flat.
    @Test func countersDoNotMoveTheOnset() throws {
        var columns: [IncidentData.Column] = []
        for service in ["frontend", "orders", "db"] {
            for (index, metric) in ["requests_total", "bytes_sent_total", "gc_collections_total"].enumerated() {
                let values = Self.total { 3 + Double(index) + Double(($0 * (index + 2)) % 5) / 4 }
                columns.append(.init(service: service, metric: metric, values: values))
            }
            let faulty = service == "orders"
            let cpu: [Double?] = (0..<120).map { row in
                let level: Double = faulty && row >= 90 ? 90 : 20
                return level + Double((row * 7) % 5 - 2) / 2
            }
            columns.append(.init(service: service, metric: "cpu", values: cpu))
        }
        let latency: [Double?] = (0..<120).map { row in
            let level: Double = row >= 90 ? 400 : 100
            return level + Double((row * 3) % 5)
        }
        columns.append(.init(service: "frontend", metric: "latency_p90", values: latency))
        let data = IncidentData(
            times: Self.times,
            columns: columns,
            calls: [("frontend", "orders"), ("orders", "db")]
        )
        let result = RootCauseRanker().rank(data)
        #expect(result.onset == Self.times[90])
        #expect(result.candidates.first?.service == "orders")
        #expect(result.candidates.first?.metric == "cpu")
    }
}
