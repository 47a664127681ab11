// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

public import VigilCore

/// What one write-ahead log record holds: an accepted batch of one signal kind, in a compact binary form.
public enum WALPayload: Sendable, Equatable {
    /// Log lines, grouped by stream.
    case logs([LogBatch])
    /// Metric samples.
    case samples([MetricPoint])
    /// Change events (deploys, config changes, flag flips, scaling).
    case changes([ChangeEvent])
    /// External alerts, firing or resolved.
    case alerts([Alert])
    /// Trace spans.
    case spans([TraceSpan])
    /// A Prometheus remote_write request body exactly as received (snappy protobuf): several times smaller than
    /// its samples written out. Only in the log: the server decodes it again on replay.
    case remoteWriteBody([UInt8])

    /// The number of signals (lines or samples) in the payload.
    public var count: Int {
        switch self {
        case .logs(let batches): batches.reduce(0) { $0 + $1.entries.count }
        case .samples(let points): points.count
        case .changes(let events): events.count
        case .alerts(let alerts): alerts.count
        case .spans(let spans): spans.count
        case .remoteWriteBody: 0
        }
    }

    /// Encodes the payload.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        switch self {
        case .logs(let batches):
            writer.bytes.append(1)
            writer.varint(UInt64(batches.count))
            for batch in batches {
                writer.string(batch.stream.service)
                writer.string(batch.stream.source)
                writer.varint(UInt64(batch.entries.count))
                for entry in batch.entries {
                    writer.varint(UInt64(bitPattern: entry.time.nanoseconds))
                    writer.varint(UInt64(entry.line.count))
                    writer.bytes += entry.line
                }
            }
        case .samples(let points):
            writer.bytes.append(2)
            writer.varint(UInt64(points.count))
            for point in points {
                writer.string(point.series.name)
                writer.varint(UInt64(point.series.labels.count))
                for label in point.series.labels {
                    writer.string(label.name)
                    writer.string(label.value)
                }
                writer.varint(UInt64(bitPattern: point.time.nanoseconds))
                writer.varint(point.value.bitPattern)
            }
        case .changes(let events):
            writer.bytes.append(3)
            writer.varint(UInt64(events.count))
            for event in events {
                writer.string(event.service)
                writer.string(event.kind.rawValue)
                writer.string(event.version ?? "")
                writer.string(event.description ?? "")
                writer.varint(UInt64(bitPattern: event.time.nanoseconds))
            }
        case .alerts(let alerts):
            writer.bytes.append(4)
            writer.varint(UInt64(alerts.count))
            for alert in alerts {
                writer.string(alert.fingerprint)
                writer.string(alert.name)
                writer.string(alert.service)
                writer.string(alert.status.rawValue)
                writer.varint(UInt64(alert.labels.count))
                for label in alert.labels {
                    writer.string(label.name)
                    writer.string(label.value)
                }
                writer.string(alert.summary ?? "")
                writer.varint(UInt64(bitPattern: alert.startsAt.nanoseconds))
                writer.varint(UInt64(bitPattern: alert.endsAt?.nanoseconds ?? 0))
            }
        case .spans(let spans):
            writer.bytes.append(5)
            writer.varint(UInt64(spans.count))
            for span in spans {
                writer.varint(span.traceID.high)
                writer.varint(span.traceID.low)
                writer.varint(span.spanID)
                writer.varint(span.parentSpanID)
                writer.string(span.service)
                writer.string(span.name)
                writer.bytes.append(span.kind.rawValue | (span.isError ? 0x80 : 0))
                writer.varint(UInt64(bitPattern: span.start.nanoseconds))
                writer.varint(UInt64(bitPattern: span.end.nanoseconds))
                writer.string(span.peer ?? "")
            }
        case .remoteWriteBody(let body):
            writer.bytes.reserveCapacity(body.count + 1)
            writer.bytes.append(6)
            writer.bytes += body
        }
        return writer.bytes
    }

    /// Decodes a payload written by ``encoded()``; `nil` if the bytes are not one.
    public static func decode(_ bytes: [UInt8]) -> WALPayload? {
        var reader = ByteReader(bytes: bytes)
        guard let kind = reader.byte() else { return nil }
        switch kind {
        case 1:
            guard let count = reader.count() else { return nil }
            var batches: [LogBatch] = []
            for _ in 0..<count {
                guard let service = reader.string(), let source = reader.string(), let entries = reader.count()
                else { return nil }
                var batch = LogBatch(stream: StreamKey(service: service, source: source), entries: [])
                batch.entries.reserveCapacity(entries)
                for _ in 0..<entries {
                    guard let time = reader.varint(), let line = reader.blob() else { return nil }
                    batch.entries.append(LogEntry(time: Timestamp(nanoseconds: Int64(bitPattern: time)), line: line))
                }
                batches.append(batch)
            }
            return .logs(batches)
        case 2:
            guard let count = reader.count() else { return nil }
            var points: [MetricPoint] = []
            for _ in 0..<count {
                guard let name = reader.string(), let labelCount = reader.count() else { return nil }
                var labels: [SeriesKey.Label] = []
                for _ in 0..<labelCount {
                    guard let label = reader.string(), let value = reader.string() else { return nil }
                    labels.append(SeriesKey.Label(label, value))
                }
                guard let time = reader.varint(), let value = reader.varint() else { return nil }
                points.append(
                    MetricPoint(
                        series: SeriesKey(name: name, labels: labels),
                        time: Timestamp(nanoseconds: Int64(bitPattern: time)),
                        value: Double(bitPattern: value)
                    )
                )
            }
            return .samples(points)
        case 3:
            guard let count = reader.count() else { return nil }
            var events: [ChangeEvent] = []
            for _ in 0..<count {
                guard let service = reader.string(), let kind = reader.string().flatMap(ChangeEvent.Kind.init),
                    let version = reader.string(), let description = reader.string(), let time = reader.varint()
                else { return nil }
                events.append(
                    ChangeEvent(
                        service: service,
                        kind: kind,
                        version: version.isEmpty ? nil : version,
                        time: Timestamp(nanoseconds: Int64(bitPattern: time)),
                        description: description.isEmpty ? nil : description
                    )
                )
            }
            return .changes(events)
        case 4:
            guard let count = reader.count() else { return nil }
            var alerts: [Alert] = []
            for _ in 0..<count {
                guard let fingerprint = reader.string(), let name = reader.string(), let service = reader.string(),
                    let status = reader.string().flatMap(Alert.Status.init), let labelCount = reader.count()
                else { return nil }
                var labels: [SeriesKey.Label] = []
                for _ in 0..<labelCount {
                    guard let label = reader.string(), let value = reader.string() else { return nil }
                    labels.append(.init(label, value))
                }
                guard let summary = reader.string(), let starts = reader.varint(), let ends = reader.varint() else {
                    return nil
                }
                alerts.append(
                    Alert(
                        fingerprint: fingerprint,
                        name: name,
                        service: service,
                        status: status,
                        labels: labels,
                        summary: summary.isEmpty ? nil : summary,
                        startsAt: Timestamp(nanoseconds: Int64(bitPattern: starts)),
                        endsAt: ends == 0 ? nil : Timestamp(nanoseconds: Int64(bitPattern: ends))
                    )
                )
            }
            return .alerts(alerts)
        case 5:
            guard let count = reader.count() else { return nil }
            var spans: [TraceSpan] = []
            spans.reserveCapacity(count)
            for _ in 0..<count {
                guard let high = reader.varint(), let low = reader.varint(), let id = reader.varint(),
                    let parent = reader.varint(), let service = reader.string(), let name = reader.string(),
                    let flags = reader.byte(), let kind = TraceSpan.Kind(rawValue: flags & 0x7F),
                    let start = reader.varint(), let end = reader.varint(), let peer = reader.string()
                else { return nil }
                spans.append(
                    TraceSpan(
                        traceID: .init(high: high, low: low),
                        spanID: id,
                        parentSpanID: parent,
                        service: service,
                        name: name,
                        kind: kind,
                        start: Timestamp(nanoseconds: Int64(bitPattern: start)),
                        end: Timestamp(nanoseconds: Int64(bitPattern: end)),
                        isError: flags & 0x80 != 0,
                        peer: peer.isEmpty ? nil : peer
                    )
                )
            }
            return .spans(spans)
        case 6:
            return .remoteWriteBody(Array(bytes.dropFirst()))
        default:
            return nil
        }
    }
}

struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) { Varint.append(value, to: &self.bytes) }

    mutating func string(_ text: String) {
        self.varint(UInt64(text.utf8.count))
        self.bytes += text.utf8
    }
}

struct ByteReader {
    let bytes: [UInt8]
    var index = 0

    mutating func byte() -> UInt8? {
        guard self.index < self.bytes.count else { return nil }
        defer { self.index += 1 }
        return self.bytes[self.index]
    }

    mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = self.byte() {
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
            if shift >= 70 { return nil }
        }
        return nil
    }

    /// A length that cannot exceed the bytes left (so a damaged record cannot ask for a huge allocation).
    mutating func count() -> Int? {
        guard let value = self.varint(), value <= UInt64(self.bytes.count - self.index) else { return nil }
        return Int(value)
    }

    mutating func blob() -> [UInt8]? {
        guard let length = self.count() else { return nil }
        defer { self.index += length }
        return Array(self.bytes[self.index..<self.index + length])
    }

    mutating func string() -> String? {
        self.blob().map { String(decoding: $0, as: UTF8.self) }
    }
}
