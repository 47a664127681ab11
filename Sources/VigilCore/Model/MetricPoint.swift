// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Names one metric series: a metric name and its labels, kept sorted by label name so equal series compare equal.
public struct SeriesKey: Sendable, Hashable, Codable, Comparable {
    /// The metric name (`node_cpu_busy_ratio`, `http_requests_total`).
    public let name: String
    /// Label pairs, sorted by name, names unique.
    public let labels: [Label]

    /// One label pair.
    public struct Label: Sendable, Hashable, Codable {
        /// The label name.
        public let name: String
        /// The label value.
        public let value: String

        /// Creates a label.
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Creates a key; labels are sorted and, for a repeated name, the last value wins.
    public init(name: String, labels: [Label] = []) {
        var byName: [String: String] = [:]
        for label in labels { byName[label.name] = label.value }
        self.name = name
        self.labels = byName.keys.sorted().map { Label($0, byName[$0]!) }
    }

    /// The value of a label, if present.
    public func label(_ name: String) -> String? {
        self.labels.first { $0.name == name }?.value
    }

    /// The service the series is about: its `service` label, else `job`, else `host`.
    public var service: String? { self.label("service") ?? self.label("job") ?? self.label("host") }

    /// The Prometheus spelling: `name{a="1",b="2"}`.
    public var text: String {
        guard !self.labels.isEmpty else { return self.name }
        return self.name + "{" + self.labels.map { "\($0.name)=\"\($0.value)\"" }.joined(separator: ",") + "}"
    }

    /// A hash that is the same on every run, for routing to shards.
    public var stableHash: UInt64 { StableHash.of(self.text) }

    /// Orders by text, for stable listings.
    public static func < (lhs: SeriesKey, rhs: SeriesKey) -> Bool { lhs.text < rhs.text }
}

/// One sample of a metric series.
public struct MetricPoint: Sendable, Hashable, Codable {
    /// The series the sample belongs to.
    public var series: SeriesKey
    /// When it was measured.
    public var time: Timestamp
    /// The measured value.
    public var value: Double

    /// Creates a sample.
    public init(series: SeriesKey, time: Timestamp, value: Double) {
        self.series = series
        self.time = time
        self.value = value
    }
}
