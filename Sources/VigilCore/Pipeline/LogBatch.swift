// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Names one log stream: the service that wrote it and where it came from (`loki`, a file path, `journald`).
/// The pipeline is sharded by this key, so one stream's lines are always processed in order by one shard.
public struct StreamKey: Sendable, Hashable, Codable, Comparable {
    /// The service (from labels such as `service_name`, `app`, `job`; `unknown` when none says).
    public var service: String
    /// The source within the service.
    public var source: String

    /// Creates a key.
    public init(service: String, source: String) {
        self.service = service
        self.source = source
    }

    /// `service/source`, for listings.
    public var text: String { self.service + "/" + self.source }

    /// Orders by service, then source.
    public static func < (lhs: StreamKey, rhs: StreamKey) -> Bool {
        (lhs.service, lhs.source) < (rhs.service, rhs.source)
    }

    /// A hash that is the same on every run, for routing to shards.
    public var stableHash: UInt64 { StableHash.of(self.text) }
}

/// One raw log line as it arrived, with the time the sender gave it.
public struct LogEntry: Sendable, Hashable {
    /// The time the sender attached (Loki's timestamp, the time a file line was read).
    public var time: Timestamp
    /// The line's bytes, without its line terminator.
    public var line: [UInt8]

    /// Creates an entry.
    public init(time: Timestamp, line: [UInt8]) {
        self.time = time
        self.line = line
    }
}

/// Lines of one stream, in the order they were sent.
public struct LogBatch: Sendable, Hashable {
    /// The stream they belong to.
    public var stream: StreamKey
    /// The lines.
    public var entries: [LogEntry]

    /// Creates a batch.
    public init(stream: StreamKey, entries: [LogEntry]) {
        self.stream = stream
        self.entries = entries
    }
}
