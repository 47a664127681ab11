// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

public import VigilCore

/// OTLP protobuf encoders for tests and load generators (the subset the decoders read).
extension OTLP {
    /// One log record to encode.
    public struct Record: Sendable {
        public var time: Timestamp
        public var severity: String
        public var body: String

        public init(time: Timestamp, severity: String, body: String) {
            self.time = time
            self.severity = severity
            self.body = body
        }
    }

    /// An `ExportLogsServiceRequest` with one resource (`service.name` = `service`).
    public static func encodeLogs(service: String, _ records: [Record]) -> [UInt8] {
        var scope = ProtobufWriter()
        for record in records {
            var log = ProtobufWriter()
            log.fixed64(1, UInt64(bitPattern: record.time.nanoseconds))
            log.field(3, bytes: Array(record.severity.utf8))
            log.field(5, bytes: Self.stringValue(record.body))
            scope.field(2, bytes: log.bytes)
        }
        var resourceLogs = ProtobufWriter()
        resourceLogs.field(1, bytes: Self.resource(service))
        resourceLogs.field(2, bytes: scope.bytes)
        var request = ProtobufWriter()
        request.field(1, bytes: resourceLogs.bytes)
        return request.bytes
    }

    /// An `ExportTraceServiceRequest` with one resource per service.
    public static func encodeTraces(_ spans: [TraceSpan]) -> [UInt8] {
        var request = ProtobufWriter()
        var services: [String] = []
        var byService: [String: [TraceSpan]] = [:]
        for span in spans {
            if byService[span.service] == nil { services.append(span.service) }
            byService[span.service, default: []].append(span)
        }
        for service in services {
            var scope = ProtobufWriter()
            for span in byService[service]! {
                var encoded = ProtobufWriter()
                encoded.field(1, bytes: Self.bigEndian(span.traceID.high) + Self.bigEndian(span.traceID.low))
                encoded.field(2, bytes: Self.bigEndian(span.spanID))
                if span.parentSpanID != 0 { encoded.field(4, bytes: Self.bigEndian(span.parentSpanID)) }
                encoded.field(5, bytes: Array(span.name.utf8))
                encoded.field(6, varint: UInt64(span.kind.rawValue))
                encoded.fixed64(7, UInt64(bitPattern: span.start.nanoseconds))
                encoded.fixed64(8, UInt64(bitPattern: span.end.nanoseconds))
                if let peer = span.peer { encoded.field(9, bytes: Self.keyValue("peer.service", peer)) }
                if span.isError {
                    var status = ProtobufWriter()
                    status.field(3, varint: 2)
                    encoded.field(15, bytes: status.bytes)
                }
                scope.field(2, bytes: encoded.bytes)
            }
            var resourceSpans = ProtobufWriter()
            resourceSpans.field(1, bytes: Self.resource(service))
            resourceSpans.field(2, bytes: scope.bytes)
            request.field(1, bytes: resourceSpans.bytes)
        }
        return request.bytes
    }

    /// An `ExportMetricsServiceRequest` of gauges with one resource (`service.name` = `service`); each point's
    /// labels become attributes.
    public static func encodeGauges(service: String, _ points: [MetricPoint]) -> [UInt8] {
        Self.encodeNumbers(service: service, points, sum: nil)
    }

    /// An `ExportMetricsServiceRequest` of sums, like ``encodeGauges(service:_:)``, with their temporality (1
    /// delta, 2 cumulative) and whether they only grow: a monotonic cumulative sum is a counter.
    public static func encodeSums(
        service: String,
        _ points: [MetricPoint],
        temporality: UInt64,
        monotonic: Bool
    ) -> [UInt8] {
        Self.encodeNumbers(service: service, points, sum: (temporality, monotonic))
    }

    static func encodeNumbers(
        service: String,
        _ points: [MetricPoint],
        sum: (temporality: UInt64, monotonic: Bool)?
    ) -> [UInt8] {
        var scope = ProtobufWriter()
        for point in points {
            var data = ProtobufWriter()
            for label in point.series.labels { data.field(7, bytes: Self.keyValue(label.name, label.value)) }
            data.fixed64(3, UInt64(bitPattern: point.time.nanoseconds))
            data.fixed64(4, point.value.bitPattern)
            var container = ProtobufWriter()
            container.field(1, bytes: data.bytes)
            if let sum {
                container.field(2, varint: sum.temporality)
                container.field(3, varint: sum.monotonic ? 1 : 0)
            }
            var metric = ProtobufWriter()
            metric.field(1, bytes: Array(point.series.name.utf8))
            metric.field(sum == nil ? 5 : 7, bytes: container.bytes)
            scope.field(2, bytes: metric.bytes)
        }
        var resourceMetrics = ProtobufWriter()
        resourceMetrics.field(1, bytes: Self.resource(service))
        resourceMetrics.field(2, bytes: scope.bytes)
        var request = ProtobufWriter()
        request.field(1, bytes: resourceMetrics.bytes)
        return request.bytes
    }

    static func resource(_ service: String) -> [UInt8] {
        var resource = ProtobufWriter()
        resource.field(1, bytes: Self.keyValue("service.name", service))
        return resource.bytes
    }

    static func keyValue(_ key: String, _ value: String) -> [UInt8] {
        var pair = ProtobufWriter()
        pair.field(1, bytes: Array(key.utf8))
        pair.field(2, bytes: Self.stringValue(value))
        return pair.bytes
    }

    static func stringValue(_ text: String) -> [UInt8] {
        var value = ProtobufWriter()
        value.field(1, bytes: Array(text.utf8))
        return value.bytes
    }

    static func bigEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
    }
}
