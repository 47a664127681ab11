// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Turns each service's entry spans (server, consumer and root spans: the requests it served) into per-minute
/// series: request rate, error ratio and latency percentiles, labelled with the service, so the metric detectors
/// watch every traced service without any metric configuration. Client spans that name their peer
/// (`peer.service`, `db.system`, `server.address`) become the same series of the calls to it, labelled with the
/// peer as `service` and the calling service as `caller`: a peer that was killed, or whose packets are lost,
/// serves no spans of its own to count, but its callers' calls to it fail.
///
/// A service's spans must reach the same instance (the pipeline routes them by service).
public struct SpanMetrics: Sendable {
    /// The series names, per second and in seconds as Prometheus names them.
    public static let requestRate = "span_requests_per_second"
    public static let errorRatio = "span_error_ratio"
    public static let latencyP50 = "span_latency_p50_seconds"
    public static let latencyP95 = "span_latency_p95_seconds"
    /// The same, of the calls a caller made to a peer, as the caller's client spans time them.
    public static let callRate = "span_calls_per_second"
    public static let callErrorRatio = "span_call_error_ratio"
    public static let callLatencyP95 = "span_call_latency_p95_seconds"

    struct Key: Hashable, Codable {
        var minute: Int64
        var service: String
        /// For the calls to `service` (a peer): the service that made them.
        var caller: String? = nil
    }

    struct Stats: Codable {
        var requests = 0
        var errors = 0
        var latency = LatencyHistogram()
        /// Changed since last reported.
        var dirty = true
    }

    /// A minute is reported once data time is this far past its end.
    public var closeAfterSeconds: Int64 = 60
    /// Reported minutes are kept this long (seconds of data time); a late span updates its minute, which is
    /// reported again.
    public var lateSeconds: Int64 = 900
    /// Ticks without a span after which every open minute is reported.
    public var quietTicksBeforeClosing = 15
    var quietTicks = 0
    var open: [Key: Stats] = [:]
    var watermark: Int64 = .min
    var closedThrough: Int64 = .min
    /// Entry spans that arrived for a minute already reported.
    public private(set) var lateSpans = 0

    public init() {}

    /// Takes spans; the series points of minutes that data time has passed are appended to `points`.
    public mutating func add(_ spans: [TraceSpan], points: inout [MetricPoint]) {
        if !spans.isEmpty { self.quietTicks = 0 }
        for span in spans {
            var key = Key(minute: span.start.minute, service: span.service)
            if !span.isEntry {
                guard span.kind == .client, let peer = span.peer, peer != span.service else { continue }
                key.service = peer
                key.caller = span.service
            }
            let end = span.end.wholeSeconds
            if end > self.watermark { self.watermark = end }
            let minute = key.minute
            guard self.closedThrough == .min || minute + 60 > self.closedThrough - self.lateSeconds else {
                self.lateSpans += 1
                continue
            }
            self.open[key, default: Stats()].requests += 1
            if span.isError { self.open[key]!.errors += 1 }
            self.open[key]!.latency.add(span.seconds)
            self.open[key]!.dirty = true
        }
        guard self.watermark != .min else { return }
        self.close(before: self.watermark &- self.closeAfterSeconds, into: &points)
    }

    /// Counts a quiet tick; after ``quietTicksBeforeClosing`` ticks without a span every open minute is
    /// reported.
    public mutating func tick(points: inout [MetricPoint]) {
        self.quietTicks += 1
        guard self.quietTicks == self.quietTicksBeforeClosing, self.watermark != .min else { return }
        self.close(before: self.watermark + 60, into: &points)
    }

    mutating func close(before second: Int64, into points: inout [MetricPoint]) {
        let boundary = second - ((second % 60) + 60) % 60
        if boundary > self.closedThrough { self.closedThrough = boundary }
        let through = self.closedThrough
        guard through != .min else { return }
        for key in self.open.keys where key.minute + 60 <= through - self.lateSeconds { self.open[key] = nil }
        let ready = self.open.filter { $0.key.minute + 60 <= through && $0.value.dirty }
        for key in ready.keys.sorted(by: {
            ($0.minute, $0.service, $0.caller ?? "") < ($1.minute, $1.service, $1.caller ?? "")
        }) {
            let stats = ready[key]!
            self.open[key]!.dirty = false
            // The point stands at the end of its minute, when its value is known.
            let time = Timestamp(nanoseconds: (key.minute + 60) * 1_000_000_000)
            var labels = [SeriesKey.Label("service", key.service)]
            if let caller = key.caller { labels.append(SeriesKey.Label("caller", caller)) }
            func point(_ name: String, _ value: Double) -> MetricPoint {
                MetricPoint(series: SeriesKey(name: name, labels: labels), time: time, value: value)
            }
            let errors = Double(stats.errors) / Double(stats.requests)
            if key.caller == nil {
                points.append(point(Self.requestRate, Double(stats.requests) / 60))
                points.append(point(Self.errorRatio, errors))
                if let p50 = stats.latency.quantile(0.5) { points.append(point(Self.latencyP50, p50)) }
                if let p95 = stats.latency.quantile(0.95) { points.append(point(Self.latencyP95, p95)) }
            } else {
                points.append(point(Self.callRate, Double(stats.requests) / 60))
                points.append(point(Self.callErrorRatio, errors))
                if let p95 = stats.latency.quantile(0.95) { points.append(point(Self.callLatencyP95, p95)) }
            }
        }
    }

    /// The open minutes, for checkpoints.
    public struct Snapshot: Sendable, Codable {
        var open: [Key: Stats]
        var watermark: Int64
        var closedThrough: Int64
    }

    public var snapshot: Snapshot {
        Snapshot(open: self.open, watermark: self.watermark, closedThrough: self.closedThrough)
    }

    public init(restoring snapshot: Snapshot) {
        self.open = snapshot.open
        self.watermark = snapshot.watermark
        self.closedThrough = snapshot.closedThrough
    }
}
