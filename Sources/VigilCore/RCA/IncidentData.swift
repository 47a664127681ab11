// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// The telemetry of one incident window, as plain values: metric columns per service on a shared time axis,
/// and the call graph when it is known.
public struct IncidentData: Sendable {
    /// One metric column.
    public struct Column: Sendable {
        /// The service the metric belongs to.
        public var service: String
        /// The metric name (`cpu`, `lat_90`, `PodSuccessRate_pct`).
        public var metric: String
        /// One value per row; `nil` where the value is missing.
        public var values: [Double?]

        /// Creates a column.
        public init(service: String, metric: String, values: [Double?]) {
            self.service = service
            self.metric = metric
            self.values = values
        }
    }

    /// Row times in Unix seconds, increasing.
    public var times: [Double]
    /// The metric columns.
    public var columns: [Column]
    /// Every known service, those without metrics included.
    public var services: [String]
    /// Caller → callee pairs.
    public var calls: [(caller: String, callee: String)]
    /// Per service, the log templates behind its log columns (see ``addLogs(_:)``).
    public var logTemplates: [String: [LogTemplate]] = [:]

    /// Creates incident data.
    public init(times: [Double], columns: [Column], services: [String] = [], calls: [(String, String)] = []) {
        self.times = times
        self.columns = columns
        var known = services
        for column in columns where !known.contains(column.service) { known.append(column.service) }
        for (caller, callee) in calls {
            if !known.contains(caller) { known.append(caller) }
            if !known.contains(callee) { known.append(callee) }
        }
        self.services = known
        self.calls = calls.map { (caller: $0.0, callee: $0.1) }
    }

    /// Adds what `other`, the same incident with other evidence added (logs, spans), holds beyond this: its
    /// extra columns, services and calls, in its order. Lets evidence be computed side by side on copies.
    public mutating func merge(_ other: IncidentData) {
        let columns = Set(self.columns.map { "\($0.service)\u{0}\($0.metric)" })
        self.columns += other.columns.filter { !columns.contains("\($0.service)\u{0}\($0.metric)") }
        for service in other.services { self.note(service: service) }
        self.logTemplates.merge(other.logTemplates) { own, _ in own }
        let calls = Set(self.calls.map { "\($0.caller)\u{0}\($0.callee)" })
        self.calls += other.calls.filter { !calls.contains("\($0.caller)\u{0}\($0.callee)") }
    }

    /// Splits a `service.metric` column name at its last dot.
    public static func split(columnName: String) -> (service: String, metric: String) {
        guard let dot = columnName.lastIndex(of: ".") else { return (columnName, "value") }
        return (String(columnName[..<dot]), String(columnName[columnName.index(after: dot)...]))
    }
}

extension IncidentData {
    /// One stored series to align: its service, metric name and samples in time order.
    public struct Samples: Sendable {
        public var service: String
        public var metric: String
        public var points: [(time: Timestamp, value: Double)]

        /// Creates a series to align.
        public init(service: String, metric: String, points: [(time: Timestamp, value: Double)]) {
            self.service = service
            self.metric = metric
            self.points = points
        }
    }

    /// Puts series sampled at their own times on one grid: the step is the median gap between samples (at
    /// least a second), a row holds the last sample of its interval, and rows no sample reached stay missing.
    /// At most `maximumRows` rows, the latest kept.
    public init(
        aligning series: [Samples],
        services: [String] = [],
        calls: [(String, String)] = [],
        maximumRows: Int = 2_000
    ) {
        var gaps: [Int64] = []
        var start = Int64.max
        var end = Int64.min
        for one in series {
            for (index, point) in one.points.enumerated() {
                start = Swift.min(start, point.time.nanoseconds)
                end = Swift.max(end, point.time.nanoseconds)
                if index > 0 { gaps.append(point.time.nanoseconds - one.points[index - 1].time.nanoseconds) }
            }
        }
        guard start <= end else {
            self.init(times: [], columns: [], services: services, calls: calls)
            return
        }
        gaps.sort()
        let step = Swift.max(1_000_000_000, gaps.isEmpty ? 1_000_000_000 : gaps[gaps.count / 2])
        let first = Swift.max(start, end - Int64(maximumRows - 1) * step)
        let rows = Int((end - first) / step) + 1
        let times = (0..<rows).map { Double(first + Int64($0) * step) / 1e9 }
        let columns = series.map { one in
            var values = [Double?](repeating: nil, count: rows)
            for point in one.points where point.time.nanoseconds >= first {
                values[Swift.min(rows - 1, Int((point.time.nanoseconds - first) / step))] = point.value
            }
            return Column(service: one.service, metric: one.metric, values: values)
        }
        self.init(times: times, columns: columns, services: services, calls: calls)
    }
}
