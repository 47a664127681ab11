// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// One span of a distributed trace: the part of the trace Vigil needs to draw the service graph and to measure
/// each service's requests, errors and latency.
public struct TraceSpan: Sendable, Equatable {
    /// OpenTelemetry's span kinds, with their OTLP numbers.
    public enum Kind: UInt8, Sendable {
        case unspecified = 0
        case `internal` = 1
        case server = 2
        case client = 3
        case producer = 4
        case consumer = 5
    }

    /// The 16-byte trace ID as two big-endian halves.
    public struct TraceID: Hashable, Sendable {
        public var high: UInt64
        public var low: UInt64

        public init(high: UInt64, low: UInt64) {
            self.high = high
            self.low = low
        }
    }

    public var traceID: TraceID
    /// This span's 8-byte ID.
    public var spanID: UInt64
    /// The parent span's ID; 0 for a root span.
    public var parentSpanID: UInt64
    /// The service that recorded the span (`service.name`).
    public var service: String
    /// The operation.
    public var name: String
    public var kind: Kind
    public var start: Timestamp
    public var end: Timestamp
    /// Whether the span's status is error.
    public var isError: Bool
    /// For client spans to something uninstrumented (a database, an external API): what it called
    /// (`peer.service`, else `db.system`, else `server.address`).
    public var peer: String?

    public init(
        traceID: TraceID,
        spanID: UInt64,
        parentSpanID: UInt64 = 0,
        service: String,
        name: String,
        kind: Kind,
        start: Timestamp,
        end: Timestamp,
        isError: Bool = false,
        peer: String? = nil
    ) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.service = service
        self.name = name
        self.kind = kind
        self.start = start
        self.end = end
        self.isError = isError
        self.peer = peer
    }

    /// The span's duration in seconds (0 when the end precedes the start).
    public var seconds: Double {
        max(0, Double(self.end.nanoseconds &- self.start.nanoseconds) / 1e9)
    }

    /// Whether the span is a request the service served: server and consumer spans, and root spans.
    public var isEntry: Bool {
        self.kind == .server || self.kind == .consumer || (self.parentSpanID == 0 && self.kind != .client)
    }
}
