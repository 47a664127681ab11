// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

public import VigilCore

/// Decodes OTLP/HTTP requests (`ExportLogsServiceRequest`, `ExportMetricsServiceRequest`,
/// `ExportTraceServiceRequest`) in protobuf and JSON into Vigil's values. The message subset read is written
/// down in `docs/otlp-subset.proto`; the reader walks the wire format directly, bounds-checked, without
/// generated message trees.
public enum OTLP {
    /// Log records grouped into one batch per service; `now` stamps records that carry no time.
    public static func decodeLogs(protobuf body: [UInt8], now: Timestamp) throws(IngestError) -> [LogBatch] {
        var batches: [String: Int] = [:]
        var result: [LogBatch] = []
        try Self.context(.logs) { () throws(IngestError) in
            try Self.forEachItem(body) { (resource, record) throws(IngestError) in
                let service = resource.serviceName
                let index =
                    batches[service]
                    ?? {
                        result.append(LogBatch(stream: StreamKey(service: service, source: "otlp"), entries: []))
                        batches[service] = result.count - 1
                        return result.count - 1
                    }()
                result[index].entries.append(try Self.logRecord(record, now: now))
            }
        }
        return result.filter { !$0.entries.isEmpty }
    }

    /// Walks `resource* = 1 { resource = 1, scope* = 2 { item* = 2 } }`, the shape shared by the three
    /// requests, handing each item (log record, metric, span) with its resource.
    static func forEachItem(
        _ body: [UInt8],
        _ take: (OTLPResource, ArraySlice<UInt8>) throws(IngestError) -> Void
    ) throws(IngestError) {
        var request = ProtobufReader(body[...])
        while !request.isAtEnd {
            let (field, type) = try request.field()
            guard field == 1, type == 2 else {
                try request.skip(wireType: type)
                continue
            }
            var resourceItems = ProtobufReader(try request.lengthDelimited())
            var resource = OTLPResource()
            var scopes: [ArraySlice<UInt8>] = []
            while !resourceItems.isAtEnd {
                let (field, type) = try resourceItems.field()
                switch (field, type) {
                case (1, 2): resource = try Self.resource(try resourceItems.lengthDelimited())
                case (2, 2): scopes.append(try resourceItems.lengthDelimited())
                default: try resourceItems.skip(wireType: type)
                }
            }
            for scope in scopes {
                var items = ProtobufReader(scope)
                while !items.isAtEnd {
                    let (field, type) = try items.field()
                    guard field == 2, type == 2 else {
                        try items.skip(wireType: type)
                        continue
                    }
                    try take(resource, try items.lengthDelimited())
                }
            }
        }
    }

    static func logRecord(_ bytes: ArraySlice<UInt8>, now: Timestamp) throws(IngestError) -> LogEntry {
        var record = ProtobufReader(bytes)
        var time: UInt64 = 0
        var observed: UInt64 = 0
        var severityNumber = 0
        var severityText = ""
        var body = ""
        while !record.isAtEnd {
            let (field, type) = try record.field()
            switch (field, type) {
            case (1, 1): time = try record.fixed64()
            case (11, 1): observed = try record.fixed64()
            case (2, 0): severityNumber = Int(truncatingIfNeeded: try record.varint())
            case (3, 2): severityText = String(decoding: try record.lengthDelimited(), as: UTF8.self)
            case (5, 2): body = try Self.anyValueText(try record.lengthDelimited(), depth: 0)
            default: try record.skip(wireType: type)
            }
        }
        let nanoseconds = time != 0 ? time : observed
        return LogEntry(
            time: nanoseconds != 0 ? Timestamp(nanoseconds: Int64(truncatingIfNeeded: nanoseconds)) : now,
            line: Self.line(severityText: severityText, severityNumber: severityNumber, body: body)
        )
    }

    /// Metric data points as samples: gauges and sums as they are; histograms and summaries as `_count` and
    /// `_sum` (summaries also per quantile); labels from the resource and the point's attributes.
    public static func decodeMetrics(protobuf body: [UInt8]) throws(IngestError) -> [MetricPoint] {
        var points: [MetricPoint] = []
        try Self.context(.metrics) { () throws(IngestError) in
            try Self.forEachItem(body) { (resource, metric) throws(IngestError) in
                try Self.metric(metric, labels: resource.labels, into: &points)
            }
        }
        return points
    }

    static func metric(
        _ bytes: ArraySlice<UInt8>,
        labels: [SeriesKey.Label],
        into points: inout [MetricPoint]
    ) throws(IngestError) {
        var metric = ProtobufReader(bytes)
        var name = ""
        var data: [(kind: Int, bytes: ArraySlice<UInt8>)] = []
        while !metric.isAtEnd {
            let (field, type) = try metric.field()
            switch (field, type) {
            case (1, 2): name = Self.metricName(String(decoding: try metric.lengthDelimited(), as: UTF8.self))
            case (5, 2), (7, 2), (9, 2), (10, 2), (11, 2): data.append((field, try metric.lengthDelimited()))
            default: try metric.skip(wireType: type)
            }
        }
        guard !name.isEmpty else { throw IngestError("a metric has no name") }
        for (kind, bytes) in data {
            let counts = kind == 7 ? try Self.isCounter(sum: bytes) : false
            let series = counts ? Self.counterName(name) : name
            var container = ProtobufReader(bytes)
            while !container.isAtEnd {
                let (field, type) = try container.field()
                guard field == 1, type == 2 else {
                    try container.skip(wireType: type)
                    continue
                }
                let point = try container.lengthDelimited()
                switch kind {
                case 5, 7: try Self.numberPoint(point, name: series, labels: labels, into: &points)
                default: try Self.distributionPoint(point, kind: kind, name: name, labels: labels, into: &points)
                }
            }
        }
    }

    /// Whether a Sum message is a counter: monotonic (field 3), with cumulative temporality (field 2).
    static func isCounter(sum bytes: ArraySlice<UInt8>) throws(IngestError) -> Bool {
        var sum = ProtobufReader(bytes)
        var temporality: UInt64 = 0
        var monotonic = false
        while !sum.isAtEnd {
            let (field, type) = try sum.field()
            switch (field, type) {
            case (2, 0): temporality = try sum.varint()
            case (3, 0): monotonic = try sum.varint() != 0
            default: try sum.skip(wireType: type)
            }
        }
        return monotonic && temporality == Self.cumulative
    }

    static func numberPoint(
        _ bytes: ArraySlice<UInt8>,
        name: String,
        labels: [SeriesKey.Label],
        into points: inout [MetricPoint]
    ) throws(IngestError) {
        var point = ProtobufReader(bytes)
        var all = labels
        var time: UInt64 = 0
        var value: Double?
        while !point.isAtEnd {
            let (field, type) = try point.field()
            switch (field, type) {
            case (7, 2): all.append(try Self.label(try point.lengthDelimited()))
            case (3, 1): time = try point.fixed64()
            case (4, 1): value = Double(bitPattern: try point.fixed64())
            case (6, 1): value = Double(Int64(bitPattern: try point.fixed64()))
            default: try point.skip(wireType: type)
            }
        }
        guard let value else { return }
        points.append(
            MetricPoint(
                series: SeriesKey(name: name, labels: all),
                time: Timestamp(nanoseconds: Int64(truncatingIfNeeded: time)),
                value: value
            )
        )
    }

    /// Histogram (9), exponential histogram (10) and summary (11) points.
    static func distributionPoint(
        _ bytes: ArraySlice<UInt8>,
        kind: Int,
        name: String,
        labels: [SeriesKey.Label],
        into points: inout [MetricPoint]
    ) throws(IngestError) {
        var point = ProtobufReader(bytes)
        var all = labels
        var time: UInt64 = 0
        var count: UInt64 = 0
        var sum: Double?
        var quantiles: [(Double, Double)] = []
        let attributesField = kind == 9 ? 9 : kind == 10 ? 1 : 7
        while !point.isAtEnd {
            let (field, type) = try point.field()
            switch (field, type) {
            case (attributesField, 2): all.append(try Self.label(try point.lengthDelimited()))
            case (3, 1): time = try point.fixed64()
            case (4, 1): count = try point.fixed64()
            case (5, 1): sum = Double(bitPattern: try point.fixed64())
            case (6, 2) where kind == 11:
                var quantile = ProtobufReader(try point.lengthDelimited())
                var q = 0.0
                var value = 0.0
                while !quantile.isAtEnd {
                    let (field, type) = try quantile.field()
                    switch (field, type) {
                    case (1, 1): q = Double(bitPattern: try quantile.fixed64())
                    case (2, 1): value = Double(bitPattern: try quantile.fixed64())
                    default: try quantile.skip(wireType: type)
                    }
                }
                quantiles.append((q, value))
            default: try point.skip(wireType: type)
            }
        }
        let at = Timestamp(nanoseconds: Int64(truncatingIfNeeded: time))
        points.append(
            MetricPoint(series: SeriesKey(name: name + "_count", labels: all), time: at, value: Double(count))
        )
        if let sum {
            points.append(MetricPoint(series: SeriesKey(name: name + "_sum", labels: all), time: at, value: sum))
        }
        for (q, value) in quantiles {
            points.append(
                MetricPoint(
                    series: SeriesKey(name: name, labels: all + [.init("quantile", "\(q)")]),
                    time: at,
                    value: value
                )
            )
        }
    }

    /// Spans with the service of their resource.
    public static func decodeTraces(protobuf body: [UInt8]) throws(IngestError) -> [TraceSpan] {
        var spans: [TraceSpan] = []
        try Self.context(.traces) { () throws(IngestError) in
            try Self.forEachItem(body) { (resource, span) throws(IngestError) in
                spans.append(try Self.span(span, service: resource.serviceName))
            }
        }
        return spans
    }

    static func span(_ bytes: ArraySlice<UInt8>, service: String) throws(IngestError) -> TraceSpan {
        var reader = ProtobufReader(bytes)
        var span = TraceSpan(
            traceID: .init(high: 0, low: 0),
            spanID: 0,
            service: service,
            name: "",
            kind: .unspecified,
            start: Timestamp(nanoseconds: 0),
            end: Timestamp(nanoseconds: 0)
        )
        var peers = PeerAttributes()
        while !reader.isAtEnd {
            let (field, type) = try reader.field()
            switch (field, type) {
            case (1, 2): span.traceID = try Self.traceID(try reader.lengthDelimited())
            case (2, 2): span.spanID = try Self.spanID(try reader.lengthDelimited(), field: "spanId")
            case (4, 2): span.parentSpanID = try Self.spanID(try reader.lengthDelimited(), field: "parentSpanId")
            case (5, 2): span.name = String(decoding: try reader.lengthDelimited(), as: UTF8.self)
            case (6, 0):
                span.kind = TraceSpan.Kind(rawValue: UInt8(truncatingIfNeeded: try reader.varint())) ?? .unspecified
            case (7, 1): span.start = Timestamp(nanoseconds: Int64(truncatingIfNeeded: try reader.fixed64()))
            case (8, 1): span.end = Timestamp(nanoseconds: Int64(truncatingIfNeeded: try reader.fixed64()))
            case (9, 2):
                let label = try Self.label(try reader.lengthDelimited())
                peers.take(label.name, label.value)
            case (15, 2):
                var status = ProtobufReader(try reader.lengthDelimited())
                while !status.isAtEnd {
                    let (field, type) = try status.field()
                    if field == 3, type == 0 {
                        span.isError = try status.varint() == 2
                    } else {
                        try status.skip(wireType: type)
                    }
                }
            default: try reader.skip(wireType: type)
            }
        }
        guard span.spanID != 0 else { throw IngestError("a span has no spanId") }
        span.peer = peers.peer
        return span
    }

    // MARK: - Shared pieces

    static func context<T>(_ signal: OTLPSignal, _ body: () throws(IngestError) -> T) throws(IngestError) -> T {
        do {
            return try body()
        } catch {
            throw IngestError("OTLP \(signal.rawValue): \(error.message)")
        }
    }

    static func resource(_ bytes: ArraySlice<UInt8>) throws(IngestError) -> OTLPResource {
        var reader = ProtobufReader(bytes)
        var resource = OTLPResource()
        while !reader.isAtEnd {
            let (field, type) = try reader.field()
            guard field == 1, type == 2 else {
                try reader.skip(wireType: type)
                continue
            }
            let label = try Self.label(try reader.lengthDelimited())
            resource.take(label.name, label.value)
        }
        return resource
    }

    /// A `KeyValue` as a label (the value as text).
    static func label(_ bytes: ArraySlice<UInt8>) throws(IngestError) -> SeriesKey.Label {
        var reader = ProtobufReader(bytes)
        var key = ""
        var value = ""
        while !reader.isAtEnd {
            let (field, type) = try reader.field()
            switch (field, type) {
            case (1, 2): key = String(decoding: try reader.lengthDelimited(), as: UTF8.self)
            case (2, 2): value = try Self.anyValueText(try reader.lengthDelimited(), depth: 0)
            default: try reader.skip(wireType: type)
            }
        }
        return SeriesKey.Label(key, value)
    }

    /// An `AnyValue` as text: strings as they are, numbers and booleans spelled out, arrays and maps in brackets.
    static func anyValueText(_ bytes: ArraySlice<UInt8>, depth: Int) throws(IngestError) -> String {
        guard depth < 16 else { throw IngestError("an attribute value nests deeper than 16 levels") }
        var reader = ProtobufReader(bytes)
        var text = ""
        while !reader.isAtEnd {
            let (field, type) = try reader.field()
            switch (field, type) {
            case (1, 2): text = String(decoding: try reader.lengthDelimited(), as: UTF8.self)
            case (2, 0): text = try reader.varint() != 0 ? "true" : "false"
            case (3, 0): text = String(Int64(bitPattern: try reader.varint()))
            case (4, 1): text = "\(Double(bitPattern: try reader.fixed64()))"
            case (5, 2), (6, 2):
                var list = ProtobufReader(try reader.lengthDelimited())
                var parts: [String] = []
                while !list.isAtEnd {
                    let (item, itemType) = try list.field()
                    guard item == 1, itemType == 2 else {
                        try list.skip(wireType: itemType)
                        continue
                    }
                    let element = try list.lengthDelimited()
                    if field == 5 {
                        parts.append(try Self.anyValueText(element, depth: depth + 1))
                    } else {
                        var pair = ProtobufReader(element)
                        var key = ""
                        var value = ""
                        while !pair.isAtEnd {
                            let (pairField, pairType) = try pair.field()
                            switch (pairField, pairType) {
                            case (1, 2): key = String(decoding: try pair.lengthDelimited(), as: UTF8.self)
                            case (2, 2): value = try Self.anyValueText(try pair.lengthDelimited(), depth: depth + 1)
                            default: try pair.skip(wireType: pairType)
                            }
                        }
                        parts.append("\(key)=\(value)")
                    }
                }
                text =
                    field == 5 ? "[" + parts.joined(separator: ", ") + "]" : "{" + parts.joined(separator: ", ") + "}"
            case (7, 2): text = Self.hex(try reader.lengthDelimited())
            default: try reader.skip(wireType: type)
            }
        }
        return text
    }

    static func traceID(_ bytes: ArraySlice<UInt8>) throws(IngestError) -> TraceSpan.TraceID {
        guard bytes.count == 16 else { throw IngestError("a traceId has \(bytes.count) bytes, not 16") }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (offset, byte) in bytes.enumerated() {
            if offset < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        return .init(high: high, low: low)
    }

    static func spanID(_ bytes: ArraySlice<UInt8>, field: String) throws(IngestError) -> UInt64 {
        if bytes.isEmpty { return 0 }
        guard bytes.count == 8 else { throw IngestError("a \(field) has \(bytes.count) bytes, not 8") }
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The attributes that name what a client span called when the callee reports no spans itself.
struct PeerAttributes {
    var peerService: String?
    var dbSystem: String?
    var serverAddress: String?

    mutating func take(_ key: String, _ value: String) {
        switch key {
        case "peer.service": self.peerService = value
        case "db.system", "db.system.name": self.dbSystem = value
        case "server.address", "net.peer.name": self.serverAddress = value
        default: break
        }
    }

    var peer: String? {
        [self.peerService, self.dbSystem, self.serverAddress].lazy.compactMap { $0 }.first { !$0.isEmpty }
    }
}
