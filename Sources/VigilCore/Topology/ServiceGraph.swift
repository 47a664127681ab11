// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Builds the service graph from spans: when a span's parent was recorded by another service, the parent's
/// service called the span's service. Calls are counted per edge and minute with their errors and latency
/// (the callee's span duration). A client span whose callee never reports (a database, an external API) becomes
/// an edge to its `peer` once it has waited long enough.
///
/// Spans of one trace must reach the same graph (the pipeline routes them by trace ID). Waiting spans live in
/// two generations that rotate every ``Configuration/joinWindowSeconds`` of data time or when one is full, so
/// memory stays bounded whatever arrives.
public struct ServiceGraph: Sendable {
    public struct Configuration: Sendable {
        /// How long (data time) a span waits for its parent or children.
        public var joinWindowSeconds: Int64 = 10
        /// The most spans one generation holds (of parents, and of orphans: at most four times this is held).
        public var maximumWaiting = 100_000
        /// A minute is closed and reported once data time is this far past its end.
        public var closeAfterSeconds: Int64 = 60
        /// After this many ticks without a span, everything waiting is settled and every open minute reported.
        public var quietTicks = 15
        /// Reported minutes are kept this long (seconds of data time): a span that arrives late for one updates
        /// it and it is reported again (rows are replaced, so the store ends with the full count).
        public var lateSeconds: Int64 = 900

        public init() {}
    }

    /// One edge's calls in one minute.
    public struct EdgeMinute: Sendable, Equatable {
        public var minute: Timestamp
        public var caller: String
        public var callee: String
        public var calls: Int
        public var errors: Int
        public var latency: LatencyHistogram

        public init(
            minute: Timestamp,
            caller: String,
            callee: String,
            calls: Int,
            errors: Int,
            latency: LatencyHistogram
        ) {
            self.minute = minute
            self.caller = caller
            self.callee = callee
            self.calls = calls
            self.errors = errors
            self.latency = latency
        }
    }

    struct SpanRef: Hashable {
        var trace: TraceSpan.TraceID
        var span: UInt64
    }

    struct Waiting {
        var service: String
        var kind: TraceSpan.Kind
        var peer: String?
        var start: Timestamp
        var seconds: Double
        var isError: Bool
        var matched: Bool
    }

    struct EdgeKey: Hashable, Codable {
        var minute: Int64
        var caller: String
        var callee: String
    }

    struct EdgeStats: Codable {
        var calls = 0
        var errors = 0
        var latency = LatencyHistogram()
        /// Changed since last reported.
        var dirty = true
    }

    public let configuration: Configuration
    /// Spans that may still get children, by (trace, span ID).
    var current: [SpanRef: Waiting] = [:]
    var previous: [SpanRef: Waiting] = [:]
    /// Children whose parent has not arrived, by the parent's (trace, span ID).
    var orphans: [SpanRef: [Waiting]] = [:]
    var previousOrphans: [SpanRef: [Waiting]] = [:]
    var generationStart: Int64?
    var open: [EdgeKey: EdgeStats] = [:]
    /// The latest span end seen, in seconds: the graph's clock.
    var watermark: Int64 = .min
    /// Spans held for joining (both generations, parents and orphans).
    public var waitingCount: Int {
        self.current.count + self.previous.count + self.orphans.count + self.previousOrphans.count
    }

    /// Spans that arrived for a minute already reported.
    public private(set) var lateSpans = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Takes spans; minutes that data time has passed are appended to `closed`.
    public mutating func add(_ spans: [TraceSpan], closed: inout [EdgeMinute]) {
        for span in spans { self.add(span) }
        guard self.watermark != .min else { return }
        self.close(before: self.watermark &- self.configuration.closeAfterSeconds, into: &closed)
    }

    /// Counts a quiet tick (the server ticks every second); once spans have stopped for
    /// ``Configuration/quietTicks`` ticks, client spans still waiting become peer edges and every open minute
    /// is reported. Ticks carry no data time, so replaying the same spans gives the same edges.
    public mutating func tick(closed: inout [EdgeMinute]) {
        self.quietTicks += 1
        guard self.quietTicks == self.configuration.quietTicks, self.watermark != .min else { return }
        self.settle()
        self.settle()
        self.close(before: self.watermark + 60, into: &closed)
    }

    mutating func add(_ span: TraceSpan) {
        self.quietTicks = 0
        let seconds = span.end.wholeSeconds
        if seconds > self.watermark { self.watermark = seconds }
        self.rotateIfDue(now: seconds)
        let waiting = Waiting(
            service: span.service,
            kind: span.kind,
            peer: span.peer,
            start: span.start,
            seconds: span.seconds,
            isError: span.isError,
            matched: false
        )
        var me = waiting
        if span.parentSpanID != 0 {
            let parent = SpanRef(trace: span.traceID, span: span.parentSpanID)
            if let caller = self.parentService(parent) {
                if caller != span.service { self.count(caller: caller, callee: span.service, waiting) }
            } else {
                self.orphans[parent, default: []].append(waiting)
            }
        }
        let ref = SpanRef(trace: span.traceID, span: span.spanID)
        for orphans in [self.orphans.removeValue(forKey: ref), self.previousOrphans.removeValue(forKey: ref)] {
            for child in orphans ?? [] where child.service != span.service {
                self.count(caller: span.service, callee: child.service, child)
                me.matched = true
            }
        }
        self.current[ref] = me
    }

    /// The parent's service, marking the parent as having a child.
    mutating func parentService(_ parent: SpanRef) -> String? {
        if let found = self.current[parent] {
            self.current[parent]!.matched = true
            return found.service
        }
        if let found = self.previous[parent] {
            self.previous[parent]!.matched = true
            return found.service
        }
        return nil
    }

    mutating func count(caller: String, callee: String, _ span: Waiting) {
        let minute = span.start.minute
        if self.closedThrough != .min && minute + 60 <= self.closedThrough - self.configuration.lateSeconds {
            self.lateSpans += 1
            return
        }
        let key = EdgeKey(minute: minute, caller: caller, callee: callee)
        self.open[key, default: EdgeStats()].calls += 1
        if span.isError { self.open[key]!.errors += 1 }
        self.open[key]!.latency.add(span.seconds)
        self.open[key]!.dirty = true
    }

    /// Minutes ending at or before this second have been reported.
    var closedThrough: Int64 = .min
    var quietTicks = 0

    mutating func rotateIfDue(now: Int64) {
        guard let start = self.generationStart else {
            self.generationStart = now
            return
        }
        guard
            now - start >= self.configuration.joinWindowSeconds
                || self.current.count >= self.configuration.maximumWaiting
                || self.orphans.count >= self.configuration.maximumWaiting
        else { return }
        self.settle()
        self.generationStart = now
    }

    /// Drops the older generation (its client spans that never met their callee become edges to their peer)
    /// and makes the current one older.
    mutating func settle() {
        // Client spans that never met their callee: an edge to what they called, when they say.
        for waiting in self.previous.values where !waiting.matched && waiting.kind == .client {
            if let peer = waiting.peer, peer != waiting.service {
                self.count(caller: waiting.service, callee: peer, waiting)
            }
        }
        self.previous = self.current
        self.current = [:]
        self.previousOrphans = self.orphans
        self.orphans = [:]
    }

    /// Reports minutes that end at or before `second` and changed since they were last reported; forgets
    /// minutes older than the late window.
    mutating func close(before second: Int64, into closed: inout [EdgeMinute]) {
        let boundary = second - ((second % 60) + 60) % 60
        if boundary > self.closedThrough { self.closedThrough = boundary }
        let boundaryNow = self.closedThrough
        guard boundaryNow != .min else { return }
        var ready: [EdgeMinute] = []
        var forget: [EdgeKey] = []
        for (key, stats) in self.open where key.minute + 60 <= boundaryNow {
            if key.minute + 60 <= boundaryNow - self.configuration.lateSeconds { forget.append(key) }
            guard stats.dirty else { continue }
            ready.append(
                EdgeMinute(
                    minute: Timestamp(nanoseconds: key.minute * 1_000_000_000),
                    caller: key.caller,
                    callee: key.callee,
                    calls: stats.calls,
                    errors: stats.errors,
                    latency: stats.latency
                )
            )
            self.open[key]!.dirty = false
        }
        for key in forget { self.open[key] = nil }
        ready.sort { ($0.minute, $0.caller, $0.callee) < ($1.minute, $1.caller, $1.callee) }
        closed += ready
    }
}

extension ServiceGraph {
    /// The open minutes, for checkpoints (spans still waiting for their parent are not kept: a trace that
    /// straddles a restart may miss an edge).
    public struct Snapshot: Sendable, Codable {
        var open: [EdgeKey: EdgeStats]
        var watermark: Int64
        var closedThrough: Int64
    }

    public var snapshot: Snapshot {
        Snapshot(open: self.open, watermark: self.watermark, closedThrough: self.closedThrough)
    }

    public init(restoring snapshot: Snapshot, configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.open = snapshot.open
        self.watermark = snapshot.watermark
        self.closedThrough = snapshot.closedThrough
    }
}
