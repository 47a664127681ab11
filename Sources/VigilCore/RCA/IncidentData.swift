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

    /// Splits a `service.metric` column name at its last dot.
    public static func split(columnName: String) -> (service: String, metric: String) {
        guard let dot = columnName.lastIndex(of: ".") else { return (columnName, "value") }
        return (String(columnName[..<dot]), String(columnName[columnName.index(after: dot)...]))
    }
}
