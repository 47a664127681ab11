// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

public import VigilCore

/// Pull mode: the query side of the Prometheus HTTP API (`/api/v1/query_range`).
public enum PrometheusQuery {
    /// A configured query: `expr` alone, or `name = expr` to name the series it yields.
    public struct Named: Sendable, Equatable {
        /// The series name for results that have no `__name__` (aggregations, `rate()`).
        public var name: String
        public var expression: String

        public init(_ text: String) {
            var bytes = Array(text.utf8)[...]
            while bytes.first == 0x20 { bytes = bytes.dropFirst() }
            let identifier = bytes.prefix { byte in
                ByteClassASCII.isWordByte(byte) || byte == UInt8(ascii: ":")
            }
            let rest = bytes.dropFirst(identifier.count).drop { $0 == 0x20 }
            if !identifier.isEmpty, !(identifier.first! >= 0x30 && identifier.first! <= 0x39),
                rest.first == UInt8(ascii: "="), rest.dropFirst().first != UInt8(ascii: "=")
            {
                self.name = String(decoding: identifier, as: UTF8.self)
                self.expression = String(decoding: rest.dropFirst().drop { $0 == 0x20 }, as: UTF8.self)
            } else {
                self.expression = text
                // A readable name from the expression: `rate(http_requests_total[5m])` → `rate_http_requests_total_5m`.
                var name: [UInt8] = []
                for byte in text.utf8 {
                    if ByteClassASCII.isWordByte(byte) {
                        name.append(byte)
                    } else if name.last != UInt8(ascii: "_") {
                        name.append(UInt8(ascii: "_"))
                    }
                }
                while name.last == UInt8(ascii: "_") { name.removeLast() }
                if let first = name.first, first >= 0x30 && first <= 0x39 { name.insert(UInt8(ascii: "_"), at: 0) }
                self.name = String(decoding: name.prefix(120), as: UTF8.self)
            }
        }
    }

    /// The samples of a `query_range` answer (`resultType` matrix, or vector from `/api/v1/query`); `NaN` and
    /// infinite values are left out. Errors carry Prometheus's own `error` text.
    public static func decode(_ body: [UInt8], name: String) throws(IngestError) -> [MetricPoint] {
        let document = try JSONParser.parse(body)
        guard let status = document["status"]?.string else {
            throw IngestError("Prometheus answer: no status field")
        }
        guard status == "success" else {
            let kind = document["errorType"]?.string ?? "error"
            throw IngestError("Prometheus answered \(kind): \(document["error"]?.string ?? "no message")")
        }
        guard let results = document["data"]?["result"]?.array else {
            throw IngestError("Prometheus answer: no data.result array")
        }
        var points: [MetricPoint] = []
        for (index, result) in results.enumerated() {
            var seriesName = name
            var labels: [SeriesKey.Label] = []
            for (key, value) in result["metric"]?.members ?? [] {
                guard let text = value.string else {
                    throw IngestError("Prometheus answer: result[\(index)].metric.\(key) is not a string")
                }
                if key == "__name__" { seriesName = text } else { labels.append(.init(key, text)) }
            }
            let series = SeriesKey(name: seriesName, labels: labels)
            let pairs = result["values"]?.array ?? result["value"].map { [$0] } ?? []
            for pair in pairs {
                guard let items = pair.array, items.count == 2, let seconds = items[0].double,
                    let text = items[1].string
                else {
                    throw IngestError("Prometheus answer: result[\(index)] has a value that is not [time, \"value\"]")
                }
                guard let value = Double(text), value.isFinite else { continue }
                points.append(MetricPoint(series: series, time: Timestamp(seconds: seconds), value: value))
            }
        }
        return points
    }

    /// The request path of a `query_range` call (the expression percent-encoded).
    public static func rangePath(_ expression: String, start: Double, end: Double, step: Double) -> String {
        func number(_ value: Double) -> String { String(format3(value)) }
        return "/api/v1/query_range?query=\(TextEscaping.percentEncoded(expression))&start=\(number(start))"
            + "&end=\(number(end))&step=\(number(step))"
    }

    static func format3(_ value: Double) -> String {
        let millis = Int64((value * 1000).rounded())
        let fraction = String(millis % 1000)
        return "\(millis / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}

/// ASCII classes for names.
enum ByteClassASCII {
    static func isWordByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == UInt8(ascii: "_")
    }
}
