// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

extension IncidentData {
    /// Reads every column that holds a cumulative counter as its increase per second, renamed `rate(<metric>)`.
    /// A counter's raw value only grows, so against the rows before an onset every later row looks high, and
    /// its steady climb looks like a change in the middle of any window; its rate is the load, the CPU or the
    /// traffic it counts. See ``isCounter(_:)`` for which columns count.
    public mutating func readCountersAsRates() {
        for index in self.columns.indices where Self.isCounter(self.columns[index]) {
            let column = self.columns[index]
            var rates = [Double?](repeating: nil, count: column.values.count)
            var previous: (row: Int, value: Double)?
            for (row, value) in column.values.enumerated() {
                guard let value else { continue }
                if let previous, self.times[row] > self.times[previous.row] {
                    rates[row] =
                        CounterRate.increase(from: previous.value, to: value)
                        / (self.times[row] - self.times[previous.row])
                }
                previous = (row, value)
            }
            self.columns[index].values = rates
            self.columns[index].metric = "rate(\(column.metric))"
        }
    }

    /// Whether a column holds a cumulative counter: it never falls but to restart from zero (below half of where
    /// it was), and either its name says it counts (`_total`, a histogram's `_count`, `_sum` or `_bucket`) or,
    /// whatever its name, it never falls at all while rising on at least half of its `counterValues` or more
    /// steps. What logs and spans add (counts and latencies per row) is no counter.
    static func isCounter(_ column: Column) -> Bool {
        guard !Self.evidenceMetrics.contains(column.metric), !column.metric.hasPrefix("rate(") else { return false }
        var previous: Double?
        var steps = 0
        var rises = 0
        var restarts = 0
        for value in column.values {
            guard let value else { continue }
            guard value >= 0 else { return false }
            if let previous {
                steps += 1
                if value > previous {
                    rises += 1
                } else if value < previous {
                    guard CounterRate.isRestart(from: previous, to: value) else { return false }
                    restarts += 1
                }
            }
            previous = value
        }
        if CounterRate.isCounter(name: column.metric) { return steps > 0 && restarts <= 1 + steps / 100 }
        return steps + 1 >= Self.counterValues && restarts == 0 && 2 * rises >= steps
    }

    /// The fewest values a column must hold to be taken for a counter by its shape alone.
    static let counterValues = 20
}
