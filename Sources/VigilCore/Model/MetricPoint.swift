// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Names one metric series: a metric name and its labels, kept sorted by label name so equal series compare equal.
///
/// The stable hash is computed once, at creation: dictionaries keyed by series hash only it, and unequal keys
/// almost always differ in it, so a lookup costs one 64-bit compare plus the string compare of a true match.
public struct SeriesKey: Sendable, Hashable, Codable, Comparable {
    /// A hash that is the same on every run (FNV-1a of ``text``), for routing to shards.
    public let stableHash: UInt64
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
        self.name = name
        var sortedAndUnique = true
        for index in labels.indices.dropFirst() where !(labels[index - 1].name < labels[index].name) {
            sortedAndUnique = false
            break
        }
        if sortedAndUnique {
            self.labels = labels
        } else {
            var byName: [String: String] = [:]
            for label in labels { byName[label.name] = label.value }
            self.labels = byName.keys.sorted().map { Label($0, byName[$0]!) }
        }
        // The hash of `text`, without building it.
        var hash = StableHash()
        for byte in name.utf8 { hash.combine(byte) }
        if !self.labels.isEmpty {
            hash.combine(UInt8(ascii: "{"))
            for (index, label) in self.labels.enumerated() {
                if index > 0 { hash.combine(UInt8(ascii: ",")) }
                for byte in label.name.utf8 { hash.combine(byte) }
                hash.combine(UInt8(ascii: "="))
                hash.combine(UInt8(ascii: "\""))
                for byte in label.value.utf8 { hash.combine(byte) }
                hash.combine(UInt8(ascii: "\""))
            }
            hash.combine(UInt8(ascii: "}"))
        }
        self.stableHash = hash.value
    }

    enum CodingKeys: String, CodingKey { case name, labels }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try container.decode(String.self, forKey: .name),
            labels: try container.decode([Label].self, forKey: .labels)
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.name, forKey: .name)
        try container.encode(self.labels, forKey: .labels)
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(self.stableHash) }

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
